// `hdc test` with FHIR patch steps and declared REST responses: patches are mocked by resource
// type like any FHIR interaction and their JSON Patch document can be expected; an XML mock is
// read as the API's format says and checked against the declared shape.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const repoRoot = new URL('../../../', import.meta.url).pathname;
let dir: string;

const HDC = `
api ehr fhir "https://ehr.example.org/R4"
api legacy rest "https://legacy.example.org" { format xml }

sender adt {
  path "/hl7/adt"
  accept ADT^A08
  fields {
    mrn   = PID-3.1
    phone = PID-13.1
  }
  on ADT^A08 run demographics
}

workflow demographics {
  found = search ehr Patient { identifier: "urn:mrn|{mrn}" }
  patch ehr Patient found.entry[0].resource.id body { telecom: [{ system: "phone", value: phone }], gender: null }
  slots = get legacy "/slots" response {
    count = slots.count as number
    ids   = slots.slot[*].id
  }
  post legacy "/bookings" body "<booking slot=\\"{slots.ids[0]}\\" of=\\"{slots.count}\\"/>"
}

test "the phone is patched and a slot booked" {
  send file("fixtures/a08.hl7") to adt
  mock step found returns { resourceType: "Bundle", type: "searchset", entry: [{ resource: { resourceType: "Patient", id: "p1" } }] }
  mock ehr Patient returns { resourceType: "Patient", id: "p1" }
  mock legacy get "/slots" returns "<slots count=\\"1\\"><slot id=\\"S1\\"/></slots>"
  mock legacy post "/bookings" returns "<ok/>" status 201
  expect request ehr patch "/Patient/p1" where count(request.body) == 1 and request.body[0].op == "add" and request.body[0].path == "/telecom" and request.body[0].value[0].value == "555-1234"
  expect request legacy post "/bookings" where request.body == "<booking slot=\\"S1\\" of=\\"1\\"/>"
}

test "a response that does not match its declaration fails" {
  send file("fixtures/a08.hl7") to adt
  mock step found returns { resourceType: "Bundle", type: "searchset", entry: [{ resource: { resourceType: "Patient", id: "p1" } }] }
  mock ehr Patient returns { resourceType: "Patient", id: "p1" }
  mock legacy get "/slots" returns "<slots><slot id=\\"S1\\"/></slots>"
  expect request legacy post "/bookings"
}
`;

const A08 = ['MSH|^~\\&|ADT|HOSP|HDC|HOSP|20240315103000||ADT^A08^ADT_A01|T1|P|2.5.1', 'PID|1||M1^^^ACME^MR||Doe^Jane||||||||555-1234', ''].join('\r');

function hdcTest(...args: string[]) {
  const r = spawnSync(process.execPath, [repoRoot + 'bin/hdc.js', 'test', ...args], { cwd: dir, env: { ...process.env, HDC_DEV: '1' }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hdc-test-patch-'));
  mkdirSync(join(dir, 'fixtures'));
  writeFileSync(join(dir, 'demographics.hdc'), HDC);
  writeFileSync(join(dir, 'fixtures', 'a08.hl7'), A08);
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('patch and xml response mocks: the passing test passes, the mismatch names the field and line', () => {
  const r = hdcTest();
  assert.is(r.code, 1, r.err + r.out);
  assert.match(r.out, /✓ the phone is patched and a slot booked/);
  assert.match(r.out, /✗ a response that does not match its declaration fails/);
  assert.match(r.out, /demographics\.hdc:19: GET legacy \/slots: response field "count" \(slots\.count\) is missing/);
  assert.match(r.out, /1 passed, 1 failed/);
});

test.run();
