// `hdc explain`: a reviewer's summary built from the plan.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Expr, Plan } from '../../../plan/plan.types.ts';
import { validate } from '../../../plan/validate-plan.js';
import { explainPlan, exprText, summarize } from '../../../compiler/explain/explain.ts';

const src = 'x.hdc:1:1-1:2';
const ref = (name: string, ...path: Array<string | number>): Expr => ({ ref: name, path, src });
const lit = (v: string | number | boolean | null): Expr => ({ lit: v, src });
const op = (o: NonNullable<Expr['op']>, ...args: Expr[]): Expr => ({ op: o, args, src });
const obj = (entries: Record<string, Expr>): Expr => ({ object: Object.entries(entries).map(([key, value]) => ({ key, value })), src });
const tpl = (...parts: Array<string | Expr>): Expr => ({ template: parts, src });

const plan: Plan = {
  planVersion: 1,
  compiler: 'hdc 0.1.0',
  hash: 'sha256:' + '0'.repeat(64),
  sources: [{ file: 'x.hdc', sha256: '0'.repeat(64) }],
  auths: [
    { name: 'ehr_backend', kind: 'smart_backend', clientId: { env: 'EHR_CLIENT_ID', src }, privateKey: { file: { env: 'EHR_KEY_FILE', src }, src }, alg: 'RS384', src },
    { name: 'billing_basic', kind: 'basic', user: { env: 'BILLING_USER', src }, password: { env: 'BILLING_PASS', default: 'never-shown', src }, src },
  ],
  apis: [
    { name: 'ehr', kind: 'fhir', baseUrl: 'https://ehr.example.org/R4', auth: 'ehr_backend', timeoutMs: 10_000, retry: { attempts: 3, backoffMs: 500 }, src },
    { name: 'billing', kind: 'rest', baseUrl: { env: 'BILLING_BASE', default: 'https://billing.example.org/api', src }, auth: 'billing_basic', timeoutMs: 5000, retry: { attempts: 2, backoffMs: 250 }, src },
    { name: 'unused', kind: 'rest', baseUrl: 'https://unused.example.org', timeoutMs: 5000, retry: { attempts: 1, backoffMs: 0 }, src },
  ],
  senders: [{
    name: 'labcorp', path: '/hl7/labcorp', version: '2.5.1',
    match: [{ path: { text: 'MSH-4.1', segment: 'MSH', field: 4, component: 1 }, op: '==', values: ['LABCORP'], src }],
    identity: { kind: 'client_cert', subject: 'CN=labcorp-interface' },
    accept: [{ code: 'ORU', trigger: 'R01' }],
    segmentBreaks: 'cr',
    ack: { mode: 'after_workflow', timeoutMs: 10_000 },
    fields: [
      { name: 'mrn', path: { text: 'PID-3[*]', segment: 'PID', field: 3, fieldRep: '*' }, where: op('==', { rel: [4, 1], src }, lit('ACME')), select: [1], type: 'list', src },
      { name: 'birth_date', path: { text: 'PID-7', segment: 'PID', field: 7 }, as: 'date', type: 'date', src },
    ],
    routes: [{ types: [{ code: 'ORU', trigger: 'R01' }], workflow: 'results', src }],
    src,
  }],
  workflows: [{
    name: 'results', inputs: ['mrn'], src,
    steps: [
      { id: 'patient', named: true, kind: 'fhir', api: 'ehr', interaction: 'search', resourceType: 'Patient', params: obj({ identifier: tpl('urn:acme:mrn|', ref('mrn')) }), src },
      {
        id: 'if_1', kind: 'if', cond: op('==', ref('patient', 'total'), lit(0)), src,
        then: [{ id: 'reject_1', kind: 'reject', code: 'AE', text: tpl('unknown patient ', ref('mrn')), src }],
        else: [{ id: 'charges', named: true, kind: 'rest', api: 'billing', method: 'GET', urlPath: tpl('/charges/', ref('mrn')), query: obj({ from: ref('patient', 'entry', 0, 'resource', 'birthDate') }), src }],
      },
      { id: 'store_1', kind: 'store', value: obj({ mrn: ref('mrn') }), collection: 'results', key: ref('mrn'), src },
    ],
  }],
  launches: [{
    name: 'coverage',
    clientId: { env: 'SMART_CLIENT_ID', src },
    clientSecret: { env: 'SMART_CLIENT_SECRET', src },
    scope: 'launch openid patient/Coverage.rs',
    issuers: ['https://ehr.example.org/R4'],
    login: { kind: 'oidc', issuer: 'https://acme.okta.com', clientId: { env: 'OKTA_ID', src }, clientSecret: { env: 'OKTA_SECRET', src }, require: op('in', lit('clinicians'), ref('claims', 'groups')), src },
    fetch: [{ id: 'cov', named: true, kind: 'fhir', interaction: 'search', resourceType: 'Coverage', params: obj({ beneficiary: tpl('Patient/', ref('context', 'patient')) }), src }],
    redirect: {
      rules: [
        { when: op('==', ref('cov', 'entry', 0, 'resource', 'status'), lit('active')), to: 'https://forms.example.org/active', with: obj({ member: ref('cov', 'entry', 0, 'resource', 'subscriberId') }), src },
        { when: op('not', { call: 'exists', args: [ref('cov', 'entry')], src }), to: 'https://forms.example.org/none', src },
      ],
      otherwise: { to: 'https://forms.example.org/self-pay', src },
    },
    src,
  }],
  tests: [],
};

test('the typed plan is a valid plan', () => {
  assert.ok(validate(plan), JSON.stringify(validate.errors));
});

test('markdown names every redirect target with its condition and parameters', () => {
  const md = explainPlan(plan);
  for (const target of ['https://forms.example.org/active', 'https://forms.example.org/none', 'https://forms.example.org/self-pay']) {
    assert.ok(md.includes('`' + target + '`'), target);
  }
  assert.match(md, /\| `cov\.entry\[0\]\.resource\.status == "active"` \| `https:\/\/forms\.example\.org\/active` \| `member` ← `cov\.entry\[0\]\.resource\.subscriberId` \|/);
  assert.match(md, /\| `not exists\(cov\.entry\)` \| `https:\/\/forms\.example\.org\/none` \| — \|/);
  assert.match(md, /\| otherwise \| `https:\/\/forms\.example\.org\/self-pay` \|/);
  assert.match(md, /the authorization endpoint of https:\/\/ehr\.example\.org\/R4/);
  assert.match(md, /the login page of https:\/\/acme\.okta\.com/);
  assert.match(md, /requires "clinicians" in claims\.groups/);
});

test('markdown names every API call in order, with the APIs and base URLs a workflow uses', () => {
  const md = explainPlan(plan);
  const search = md.indexOf('`patient = FHIR search Patient on ehr, params { identifier: "urn:acme:mrn|{mrn}" }`');
  const ifLine = md.indexOf('- `if patient.total == 0:`');
  const reject = md.indexOf('  - `reject with AE: "unknown patient {mrn}"`');
  const elseLine = md.indexOf('- `else:`');
  const get = md.indexOf('  - `charges = GET billing "/charges/{mrn}", query { from: patient.entry[0].resource.birthDate }`');
  const store = md.indexOf('- `store { mrn: mrn } in collection "results", key mrn`');
  assert.ok(search > 0 && search < ifLine && ifLine < reject && reject < elseLine && elseLine < get && get < store, md);
  assert.match(md, /\*\*Calls:\*\* `ehr` \(FHIR R4, `https:\/\/ehr\.example\.org\/R4`\); `billing` \(REST, `env\(BILLING_BASE, default https:\/\/billing\.example\.org\/api\)`\)/);
  assert.not.match(md.slice(md.indexOf('## Workflows'), md.indexOf('## SMART')), /unused/);
  assert.match(md, /`cov = FHIR search Coverage on the launch's FHIR server/);
});

test('senders show identity, matches, types, ACK mode, fields and routes', () => {
  const md = explainPlan(plan);
  assert.match(md, /### `labcorp` — POST `\/hl7\/labcorp`/);
  assert.match(md, /TLS client certificate \(subject contains CN=labcorp-interface\)/);
  assert.match(md, /`MSH-4\.1 == "LABCORP"`/);
  assert.match(md, /ORU\^R01 \(HL7 v2\.5\.1\)/);
  assert.match(md, /after the workflow \(waits at most 10 s\)/);
  assert.match(md, /\| `mrn` \| `PID-3\[\*\] where \.4\.1 == "ACME" → \.1` \|  \| list \|/);
  assert.match(md, /ORU\^R01 → workflow `results`/);
});

test('secrets appear only as env()/file() references, never with defaults', () => {
  const all = explainPlan(plan) + explainPlan(plan, 'text') + explainPlan(plan, 'json');
  assert.not.match(all, /never-shown/);
  assert.match(all, /password `env\(BILLING_PASS\)`/);
  assert.match(all, /private key `file\(env\(EHR_KEY_FILE\)\)`/);
});

test('text and json formats carry the same facts', () => {
  const text = explainPlan(plan, 'text');
  assert.not.match(text, /`|\*\*|<br>/);
  assert.match(text, /https:\/\/forms\.example\.org\/self-pay/);
  assert.match(text, /charges = GET billing "\/charges\/\{mrn\}"/);
  const json = JSON.parse(explainPlan(plan, 'json'));
  assert.equal(json, JSON.parse(JSON.stringify(summarize(plan))));
  assert.equal(json.launches[0].redirects.map((r: { to: string }) => r.to), [
    'https://forms.example.org/active', 'https://forms.example.org/none', 'https://forms.example.org/self-pay',
  ]);
});

test('expressions print with the parentheses precedence needs', () => {
  const a = ref('a');
  const b = ref('b');
  const c = ref('c');
  assert.is(exprText(op('and', op('or', a, b), c)), '(a or b) and c');
  assert.is(exprText(op('or', a, op('and', b, c))), 'a or b and c');
  assert.is(exprText(op('-', a, op('-', b, c))), 'a - (b - c)');
  assert.is(exprText(op('-', op('-', a, b), c)), 'a - b - c');
  assert.is(exprText(op('neg', op('neg', a))), '-(-a)');
  assert.is(exprText(op('not', op('==', a, b))), 'not a == b');
  assert.is(exprText(ref('x', 'entry', '*', 'resource', 'a-b', 2)), 'x.entry[*].resource["a-b"][2]');
  assert.is(exprText(tpl('a"{', ref('x'), '}')), '"a\\"\\{{x}\\}"');
  assert.is(exprText({ secret: { env: 'TOKEN', default: 'x', src }, src }), 'env(TOKEN)');
});

test('the CLI explains .hdc files and plan.json, and fails on errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-explain-'));
  try {
    const hdc = new URL('../../../bin/hdc.js', import.meta.url).pathname;
    const run = (...args: string[]) => spawnSync(process.execPath, [hdc, 'explain', ...args], { cwd: dir, env: { ...process.env, HDC_DEV: '1' }, encoding: 'utf8' });
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
    const fromPlan = run('plan.json');
    assert.is(fromPlan.status, 0, fromPlan.stderr);
    assert.is(fromPlan.stdout, explainPlan(plan));

    writeFileSync(join(dir, 'a.hdc'), 'api billing rest "https://billing.example.org" {\n  timeout 5s\n}\n');
    const fromHdc = run('a.hdc', '--format', 'text');
    assert.is(fromHdc.status, 0, fromHdc.stderr);
    assert.match(fromHdc.stdout, /billing\s+REST\s+https:\/\/billing\.example\.org/);
    // The retry policy, declared or by default.
    assert.match(fromHdc.stdout, /5 attempts; waits 30 s, doubling, at most 30 min/);
    writeFileSync(join(dir, 'r.hdc'), 'api ehr fhir "https://ehr.example.org/R4" { retry 3 backoff 2s max 1m }\napi once rest "https://once.example.org" { retry 1 }\n');
    const declared = run('r.hdc', '--format', 'text');
    assert.is(declared.status, 0, declared.stderr);
    assert.match(declared.stdout, /3 attempts; waits 2 s, doubling, at most 1 min/);
    assert.match(declared.stdout, /1 attempt, no retries/);

    writeFileSync(join(dir, 'bad.hdc'), 'workflow w {\n  let a =\n}\n');
    const bad = run('bad.hdc');
    assert.is(bad.status, 1);
    assert.match(bad.stderr, /bad\.hdc:3:1: error HDC1001/);

    writeFileSync(join(dir, 'invalid.json'), JSON.stringify({ planVersion: 2 }));
    assert.is(run('invalid.json').status, 1);
    assert.is(run('--format', 'html', 'plan.json').status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
