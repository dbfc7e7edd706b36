// `mock step NAME` reaches a step whichever branch of an `if` defined it: a name defined in both
// branches is one variable, and its mock must not depend on which copy ran.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hdc-step-mocks-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const HDC = `
api billing rest "https://billing.example.org/api" { format json }

sender lab {
  path "/hl7/lab"
  accept ADT^A01
  line_endings any
  ack after_workflow 5s
  fields {
    mrn = PID-3.1
  }
  on ADT^A01 run admit
}

workflow admit {
  if mrn == "M1" {
    account = get billing "/accounts/by-mrn/{mrn}"
  } else {
    account = get billing "/accounts/guest"
  }
  store { total: account.total } in "accounts"
}

test "the step is mocked in the then branch" {
  send file("fixtures/m1.hl7") to lab
  mock step account returns { total: 1 }
  expect ack AA
  expect stored "accounts" where records[0].total == 1
}

test "and in the else branch" {
  send file("fixtures/m2.hl7") to lab
  mock step account returns { total: 2 }
  expect ack AA
  expect stored "accounts" where records[0].total == 2
}
`;

const adt = (mrn: string) => `MSH|^~\\&|LAB|LABFAC|HDC|HOSP|20240315103000||ADT^A01^ADT_A01|${mrn}|P|2.5.1\rPID|1||${mrn}^^^ACME^MR||Doe^Jane\r`;

test('mock step matches a step defined in both branches of an if', () => {
  mkdirSync(join(dir, 'fixtures'));
  writeFileSync(join(dir, 'admit.hdc'), HDC);
  writeFileSync(join(dir, 'fixtures', 'm1.hl7'), adt('M1'));
  writeFileSync(join(dir, 'fixtures', 'm2.hl7'), adt('M2'));
  const r = spawnSync(process.execPath, [repoRoot + 'bin/hdc.js', 'test'], { cwd: dir, env: { ...process.env, HDC_DEV: '1' }, encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /2 passed, 0 failed/);
});

test.run();
