// `hdc test` as users run it: a project of .hdc files and fixtures in a temp folder, compiled and
// run by the CLI (child process); mocks by API + resource type, path + method and step name;
// expectations on ACK code and text, fields, requests and stored records; failures reported with
// the .hdc line and exit 1; --format json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const repoRoot = new URL('../../../', import.meta.url).pathname;
let dir: string;

const HDC = `
auth ehr_auth oauth2 {
  token_url env("NOT_SET_IN_TESTS_TOKEN_URL")
  client_id env("NOT_SET_IN_TESTS_CLIENT_ID")
  client_secret env("NOT_SET_IN_TESTS_SECRET")
  client_auth basic
  scope "system/Patient.rs system/Encounter.rs"
}

api ehr fhir env("NOT_SET_IN_TESTS_FHIR_BASE") { auth ehr_auth }
api billing rest "https://billing.example.org/api" { format json }

sender lab {
  path "/hl7/lab"
  match MSH-4.1 == "LABFAC"
  accept ADT^A01
  line_endings any
  ack after_workflow 5s
  fields {
    mrn = PID-3.1
    family = PID-5.1
  }
  on ADT^A01 run admit
}

workflow admit {
  patient = search ehr Patient { identifier: "urn:mrn|{mrn}" }
  if patient.total == 0 {
    reject AE "unknown patient {mrn}"
  }
  encounter = search ehr Encounter { patient: "Patient/{patient.entry[0].resource.id}", status: "in-progress" }
  charges = get billing "/charges/{encounter.entry[0].resource.id}"
  store { mrn: mrn, total: charges.total } in "admissions" key mrn
  post billing "/admissions" body { mrn: mrn, total: charges.total }
}

test "a known patient is charged" {
  send file("fixtures/adt.hl7") to lab
  mock ehr Patient returns file("fixtures/patients.json")
  mock step encounter returns { resourceType: "Bundle", type: "searchset", entry: [{ resource: { resourceType: "Encounter", id: "e/1" } }] }
  mock billing get "/charges/e%2F1" returns { total: 120 }
  mock billing post "/admissions" returns { ok: true } status 201
  expect ack AA
  expect field mrn == "M1"
  expect field family == "Doe"
  expect request ehr get "/Patient" where request.query.identifier == "urn:mrn|M1"
  expect request billing post "/admissions" where request.body.total == 120
  expect no request billing get "/elsewhere"
  expect stored "admissions" where records[0].total == 120
}

test "an unknown patient is answered AE" {
  send file("fixtures/adt.hl7") to lab
  mock ehr Patient returns { resourceType: "Bundle", type: "searchset", entry: [] }
  expect ack AE "unknown patient M1"
  expect no request billing post "/admissions"
}

test "this one fails on purpose" {
  send file("fixtures/adt.hl7") to lab
  mock ehr Patient returns file("fixtures/patients.json")
  mock ehr Encounter returns { resourceType: "Bundle", type: "searchset", entry: [{ resource: { resourceType: "Encounter", id: "e2" } }] }
  mock billing "/charges/e2" returns { total: 5 }
  mock billing post "/admissions" returns { ok: true } status 201
  expect ack AA
  expect field mrn == "WRONG"
  expect request billing post "/admissions" where request.body.total == 120
  expect stored "nothing-here"
}
`;

const ADT = ['MSH|^~\\&|LAB|LABFAC|HDC|HOSP|20240315103000||ADT^A01^ADT_A01|T1|P|2.5.1', 'PID|1||M1^^^ACME^MR||Doe^Jane', ''].join('\n');
const PATIENTS = JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: 1, entry: [{ resource: { resourceType: 'Patient', id: 'p1' } }] });

function hdcTest(...args: string[]) {
  const r = spawnSync(process.execPath, [repoRoot + 'bin/hdc.js', 'test', ...args], { cwd: dir, env: { ...process.env, HDC_DEV: '1' }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hdc-test-cli-'));
  mkdirSync(join(dir, 'fixtures'));
  writeFileSync(join(dir, 'admit.hdc'), HDC);
  writeFileSync(join(dir, 'fixtures', 'adt.hl7'), ADT);
  writeFileSync(join(dir, 'fixtures', 'patients.json'), PATIENTS);
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('text output: passing and failing tests, failures located, exit 1', () => {
  const r = hdcTest();
  assert.is(r.code, 1, r.err + r.out);
  assert.match(r.out, /^admit\.hdc$/m);
  assert.match(r.out, /✓ a known patient is charged/);
  assert.match(r.out, /✓ an unknown patient is answered AE/);
  assert.match(r.out, /✗ this one fails on purpose/);
  assert.match(r.out, /admit\.hdc:\d+: field mrn is "M1"/);
  assert.match(r.out, /admit\.hdc:\d+: 1 request\(s\) to billing POST \/admissions were made, none where the condition holds/);
  assert.match(r.out, /admit\.hdc:\d+: stored "nothing-here" has 0 record\(s\)/);
  assert.match(r.out, /2 passed, 1 failed/);
});

test('--filter and --format json; exit 0 when all selected tests pass', () => {
  const r = hdcTest('--filter', 'patient', '--format', 'json');
  assert.is(r.code, 0, r.err + r.out);
  const report = JSON.parse(r.out);
  assert.is(report.passed, 2);
  assert.is(report.failed, 0);
  assert.equal(report.tests.map((t: { name: string; status: string }) => [t.name, t.status]), [
    ['a known patient is charged', 'passed'],
    ['an unknown patient is answered AE', 'passed'],
  ]);
  assert.match(report.tests[0].at, /^admit\.hdc:\d+$/);
});

test('an unmocked request fails the test and names it', () => {
  writeFileSync(join(dir, 'extra.hdc'), `
test "charges are not mocked" {
  send file("fixtures/adt.hl7") to lab
  mock ehr Patient returns file("fixtures/patients.json")
  mock ehr Encounter returns { resourceType: "Bundle", type: "searchset", entry: [{ resource: { resourceType: "Encounter", id: "e3" } }] }
  expect ack AA
}
`);
  try {
    const r = hdcTest('--filter', 'not mocked');
    assert.is(r.code, 1, r.err + r.out);
    assert.match(r.out, /no mock answers GET billing \/charges\/e3/);
  } finally {
    rmSync(join(dir, 'extra.hdc'));
  }
});

test('files that do not compile: diagnostics and exit 1', () => {
  writeFileSync(join(dir, 'broken.hdc'), 'workflow x { nonsense here }\n');
  try {
    const r = hdcTest();
    assert.is(r.code, 1);
    assert.match(r.err, /broken\.hdc:1:\d+: error HDC\d+/);
  } finally {
    rmSync(join(dir, 'broken.hdc'));
  }
});

test.run();
