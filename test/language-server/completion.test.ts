// Completion against the real server over stdio: each fixture marks the cursor with `|`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompletionItem, CompletionList } from 'vscode-languageserver/node.js';
import { LspClient, withCursor } from './lsp-client.ts';
import { expectedAt } from '../../compiler/syntax/expected.ts';
import { keywordList } from '../../compiler/syntax/tokens.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-completion-'));
let client: LspClient;
let n = 0;

const project = `
auth ehr_backend smart_backend {
  client_id env("EHR_CLIENT_ID")
  private_key file(env("EHR_KEY_FILE"))
  scope "system/Patient.rs system/Observation.c"
}

api ehr fhir "https://ehr.example.org/R4" { auth ehr_backend }
api billing rest "https://billing.example.org/api" { timeout 10s }

sender labcorp {
  path "/hl7/labcorp"
  version "2.5.1"
  accept ORU^R01
  fields {
    mrn = PID-3[*] where .4.1 == "ACME" -> .1
    family = PID-5.1
    results = each OBX { code = OBX-3.1, value = OBX-5 }
  }
  on ORU^R01 run results
}

workflow results {
  patient = search ehr Patient { identifier: "urn:acme:mrn:{mrn}" }
  obs = read ehr Observation "1"
  store { mrn: mrn } in "results"
}
`;

/** Opens a fresh file holding the fixture and asks for completion at its cursor. */
async function complete(fixture: string): Promise<CompletionItem[]> {
  const { text, position } = withCursor(fixture);
  const uri = await client.open(join(dir, `case${n++}.hdc`), text);
  const r = await client.request<CompletionList | CompletionItem[] | null>('textDocument/completion', { textDocument: { uri }, position });
  await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  if (!r) return [];
  return Array.isArray(r) ? r : r.items;
}

const labels = (items: CompletionItem[]) => items.map((i) => i.label);
const item = (items: CompletionItem[], label: string) => {
  const found = items.find((i) => i.label === label);
  assert.ok(found, `expected "${label}" among ${labels(items).slice(0, 40).join(', ')}`);
  return found!;
};
const within = (body: string) => project.replace('  store { mrn: mrn } in "results"\n', body);

test.before(async () => {
  client = await LspClient.start({ rootDir: dir, debounceMs: 20 });
});
test.after(async () => {
  await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('top level: declaration keywords and snippets', async () => {
  const items = await complete(project + '\n|');
  for (const k of ['sender', 'workflow', 'auth', 'api', 'import', 'smart', 'test']) item(items, k);
  assert.not.ok(labels(items).includes('PID'), 'no HL7 segments at the top level');
});

test('auth kinds after auth NAME, API kinds after api NAME', async () => {
  assert.equal(labels(await complete('auth x |')).sort(), ['basic', 'bearer', 'oauth2', 'smart_backend']);
  assert.equal(labels(await complete('api x |')).sort(), ['fhir', 'hl7', 'rest']);
});

test('sender block: settings and structure keywords at a line start, without those already set', async () => {
  const items = await complete(project.replace('  accept ORU^R01\n', '  accept ORU^R01\n  |\n'));
  for (const k of ['identity', 'ack', 'match', 'fields', 'on', 'charset']) item(items, k);
  assert.not.ok(labels(items).includes('path'), 'path is already set');
  assert.match(item(items, 'ack').detail ?? '', 'on_receive');
});

test('HL7 segments for the sender version, the accepted message structure first', async () => {
  const items = await complete(project.replace('    family = PID-5.1', '    family = P|'));
  const pid = item(items, 'PID');
  assert.is(pid.detail, 'Patient Identification');
  assert.ok((pid.sortText ?? '') < (item(items, 'PRD').sortText ?? ''), 'segments of ORU^R01 sort before others');
  item(items, 'each');
});

test('HL7 fields with names and data types (PID-5 Patient Name, XPN)', async () => {
  const items = await complete(project.replace('    family = PID-5.1', '    family = PID-|'));
  assert.is(item(items, 'PID-5').detail, 'Patient Name (XPN)');
  assert.is(item(items, 'PID-3').detail, 'Patient Identifier List (CX)');
  const edit = item(items, 'PID-5').textEdit as { newText: string; range: { start: { character: number }; end: { character: number } } };
  assert.is(edit.newText, 'PID-5');
  assert.is(edit.range.end.character - edit.range.start.character, 'PID-'.length, 'the edit replaces what was typed');
});

test('HL7 components and subcomponents', async () => {
  const comps = await complete(project.replace('    family = PID-5.1', '    family = PID-5.|'));
  assert.is(item(comps, 'PID-5.1').detail, 'Family Name (FN)');
  assert.is(item(comps, 'PID-5.2').detail, 'Given Name (ST)');
  const subs = await complete(project.replace('    family = PID-5.1', '    family = PID-5.1.|'));
  assert.is(item(subs, 'PID-5.1.1').detail, 'Surname (ST)');
});

test('HL7 fields follow the declared version (2.1: PID-5 is PN)', async () => {
  const items = await complete(project.replace('version "2.5.1"', 'version "2.1"').replace('    family = PID-5.1', '    family = PID-|'));
  assert.is(item(items, 'PID-5').detail, 'Patient name (PN)');
});

test('relative components inside where, from the field type (CX)', async () => {
  const items = await complete(project.replace('where .4.1 ==', 'where .| =='));
  assert.is(item(items, '.4').detail, 'Assigning Authority (HD)');
  const subs = await complete(project.replace('where .4.1 ==', 'where .4.| =='));
  assert.is(item(subs, '.4.1').detail, 'Namespace ID (IS)');
});

test('segments after each, conversions after as', async () => {
  item(await complete(project.replace('each OBX {', 'each |')), 'OBX');
  assert.equal(labels(await complete(project.replace('    family = PID-5.1', '    family = PID-5.1 as |'))).sort(), ['date', 'datetime', 'number', 'raw', 'string']);
});

test('message types and trigger events for the version', async () => {
  const items = await complete(project.replace('  accept ORU^R01', '  accept ORU^R01, ADT^|'));
  const a01 = item(items, 'ADT^A01');
  assert.match(a01.detail ?? '', /Admit/);
  item(items, 'ADT^A04');
  item(items, 'ADT^*');
  const routes = await complete(project.replace('  on ORU^R01 run results', '  on |'));
  assert.ok((item(routes, 'ORU^R01').sortText ?? '') < (item(routes, 'ADT^A01').sortText ?? ''), 'accepted types first');
});

test('declared workflows after run, auths after auth', async () => {
  assert.equal(labels(await complete(project.replace('run results', 'run |'))), ['results']);
  assert.equal(labels(await complete(project.replace('{ auth ehr_backend }', '{ auth | }'))), ['ehr_backend']);
});

test('workflow statements: keywords at a line start, verbs after name =', async () => {
  const items = await complete(within('  |\n'));
  for (const k of ['if', 'for', 'let', 'store', 'send', 'reject', 'search', 'get']) item(items, k);
  const verbs = labels(await complete(within('  x = |\n')));
  for (const v of ['search', 'read', 'create', 'update', 'get', 'post']) assert.ok(verbs.includes(v), v);
});

test('FHIR APIs and resource types after a FHIR verb; only REST-capable APIs after get', async () => {
  const items = await complete(within('  x = search |\n'));
  item(items, 'ehr');
  assert.not.ok(labels(items).includes('billing'), 'billing is a rest API');
  assert.match(item(items, 'Encounter').documentation ? JSON.stringify(item(items, 'Encounter').documentation) : '', /Encounter|interaction/i);
  const types = await complete(within('  x = search ehr Enc|\n'));
  item(types, 'Encounter');
  item(await complete(within('  x = get |\n')), 'billing');
});

test('FHIR search parameters for the resource type, own ones first', async () => {
  const items = await complete(within('  enc = search ehr Encounter { | }\n'));
  const p = item(items, 'patient');
  assert.is(p.detail, 'reference search parameter');
  item(items, 'status');
  item(items, '_lastUpdated');
  assert.ok((p.sortText ?? '') < (item(items, '_lastUpdated').sortText ?? ''));
  const more = await complete(within('  enc = search ehr Encounter { patient: "x", | }\n'));
  assert.not.ok(labels(more).includes('patient'), 'a parameter already given is not offered again');
});

test('resource elements as keys of a create body, nested by key', async () => {
  const top = await complete(within('  o = create ehr Observation body { | }\n'));
  for (const k of ['status', 'code', 'subject', 'valueQuantity', 'valueString']) item(top, k);
  const nested = await complete(within('  o = create ehr Observation body { code: { | } }\n'));
  assert.equal(labels(nested).filter((l) => ['coding', 'text'].includes(l)).sort(), ['coding', 'text']);
});

test('variables in scope: mapped fields, earlier steps, functions', async () => {
  const items = await complete(within('  if | \n'));
  item(items, 'mrn');
  item(items, 'results');
  assert.match(item(items, 'patient').detail ?? '', /Bundle of Patient/);
  item(items, 'count');
  item(items, 'message');
});

test('fields of earlier step results: Bundle, then the searched resource type', async () => {
  const bundle = await complete(within('  if patient.| \n'));
  item(bundle, 'total');
  item(bundle, 'entry');
  const patient = await complete(within('  let n = patient.entry[0].resource.|\n'));
  for (const k of ['name', 'birthDate', 'identifier']) item(patient, k);
  const name = await complete(within('  let n = patient.entry[0].resource.name[0].|\n'));
  for (const k of ['family', 'given']) item(name, k);
  const obs = await complete(within('  let v = obs.|\n'));
  item(obs, 'valueQuantity');
});

test('fields of an each group through a loop variable', async () => {
  const items = await complete(within('  for each r in results {\n    let c = r.|\n  }\n'));
  assert.equal(labels(items).sort(), ['code', 'value']);
});

test('interpolations inside strings complete like expressions', async () => {
  const items = await complete(within('  reject AE "unknown {pat|"\n'));
  item(items, 'patient');
  assert.equal(await complete(within('  reject AE "plain te|"\n')), []);
});

test('no completion inside comments', async () => {
  assert.equal(await complete(within('  // search ehr Pa|\n')), []);
  assert.equal(await complete(within('  /* search ehr\n   Pa|\n')), []);
  item(await complete(within('  /* note */ x = search ehr Pa|\n')), 'Patient');
});

test('tests: senders after send … to, ACK codes, APIs after mock', async () => {
  const base = project + '\ntest "t" {\n  |\n}\n';
  assert.equal(labels(await complete(base)).sort(), ['expect', 'launch', 'mock', 'send']);
  assert.equal(labels(await complete(base.replace('|', 'send file("m.hl7") to |'))), ['labcorp']);
  assert.ok(labels(await complete(base.replace('|', 'expect ack |'))).includes('AE'));
  const mock = labels(await complete(base.replace('|', 'mock |')));
  assert.ok(mock.includes('ehr') && mock.includes('billing') && mock.includes('step'));
});

const launch = `smart launch coverage {
  client_id env("SMART_CLIENT_ID")
  scope "launch openid fhirUser patient/Patient.rs patient/Coverage.rs"
  login oidc {
    issuer env("IDP_ISSUER")
    client_id env("IDP_CLIENT_ID")
  }
  fetch {
    patient = read Patient context.patient
    coverage = search Coverage { beneficiary: "Patient/{context.patient}" }
  }
  map {
    given: patient.name[0].given[0]
  }
  redirect {
    when exists(coverage.entry)
      to "https://forms.example.org/active" with { given: data.given }
    otherwise to "https://forms.example.org/self-pay"
  }
}
`;

test('SMART launch: settings and blocks, login methods and their settings', async () => {
  const top = await complete(launch.replace('  login oidc {', '  |\n  login oidc {'));
  for (const k of ['issuers', 'targets', 'redirect_uri', 'fetch', 'redirect']) item(top, k);
  assert.not.ok(labels(top).includes('client_id'), 'client_id is already set');
  assert.equal(labels(await complete(launch.replace('login oidc {', 'login | {'))).sort(), ['ldap', 'oidc', 'postgres', 'users']);
  const login = await complete(launch.replace('    client_id env("IDP_CLIENT_ID")', '    client_id env("IDP_CLIENT_ID")\n    |'));
  for (const k of ['client_secret', 'scope', 'require']) item(login, k);
});

test('SMART launch: fetches name resource types (no API), results feed map and redirect', async () => {
  const fetchTypes = await complete(launch.replace('    patient = read Patient context.patient', '    patient = read |'));
  item(fetchTypes, 'Patient');
  assert.not.ok(labels(fetchTypes).includes('ehr'));
  const params = await complete(launch.replace('{ beneficiary: "Patient/{context.patient}" }', '{ | }'));
  item(params, 'beneficiary');
  const mapped = await complete(launch.replace('given: patient.name[0].given[0]', 'given: patient.|'));
  for (const k of ['name', 'birthDate']) item(mapped, k);
  const when = await complete(launch.replace('when exists(coverage.entry)', 'when |'));
  item(when, 'coverage');
  item(when, 'data');
});

test('value maps complete like functions in expressions, with their table', async () => {
  const items = await complete('map sex_code { "F": "female", "M": "male", else: "unknown" }\n' + within('  let g = s|\n'));
  const m = item(items, 'sex_code');
  assert.match(String(m.detail), /F → female, M → male, else unknown/);
  assert.ok(labels(await complete('|')).includes('map'), 'map is a top-level keyword');
});

// Drift between completion and the language, fixed where the vocabulary declares it.
test('`as list` is offered after a [*] path, not after a single field', async () => {
  const fx = (path: string) => `sender s {\n  path "/x"\n  version "2.5.1"\n  accept ORU^R01\n  fields {\n    a = ${path} as |\n  }\n}\n`;
  assert.ok(labels(await complete(fx('PID-3[*]'))).includes('list'));
  assert.not.ok(labels(await complete(fx('PID-3'))).includes('list'));
});

test('the second field of a one-line each group completes the segment\'s fields', async () => {
  const items = await complete(`sender s {\n  path "/x"\n  version "2.5.1"\n  accept ORU^R01\n  fields {\n    r = each OBX { code = OBX-3.1, value = OBX-| }\n  }\n}\n`);
  item(items, 'OBX-5');
  assert.not.ok(labels(items).includes('where'));
});

test('message. offers the received message\'s fields', async () => {
  assert.equal(labels(await complete(within('  let t = message.|\n'))), ['type', 'trigger', 'controlId', 'version', 'receivedAt', 'sender']);
});

test('identity client_cert offers its own settings; a fhir api offers no format, a rest api no validate', async () => {
  assert.equal(labels(await complete(`sender s {\n  path "/x"\n  identity client_cert {\n    |\n  }\n}\n`)), ['subject', 'san', 'fingerprint']);
  assert.equal(labels(await complete(`sender s {\n  path "/x"\n  identity basic {\n    |\n  }\n}\n`)), ['user', 'password']);
  const fhirApi = labels(await complete(`api ehr fhir "https://x.org" {\n  |\n}\n`));
  assert.ok(fhirApi.includes('validate') && !fhirApi.includes('format'), fhirApi.join(', '));
  const restApi = labels(await complete(`api b rest "https://x.org" {\n  |\n}\n`));
  assert.ok(restApi.includes('format') && !restApi.includes('validate'), restApi.join(', '));
});

test('keywords follow the parser: exactly the words it takes where only words fit, its statement words at a line start', async () => {
  const keywords = (items: CompletionItem[]) => labels(items).filter((l) => keywordList.includes(l)).sort();
  const cases: Array<[string, string[]]> = [
    [within('  for |\n'), ['each']],
    [within('  for each r |\n'), ['in']],
    [`sender s {\n  path "/x"\n  accept ORU^R01\n  on ORU^R01 |\n}\n`, ['run']],
    [`test "t" {\n  |\n}\n`, ['expect', 'launch', 'mock', 'send']],
    [`test "t" {\n  expect |\n}\n`, ['ack', 'field', 'no', 'redirect', 'request', 'stored']],
  ];
  for (const [fixture, words] of cases) assert.equal(keywords(await complete(fixture)), words, fixture);
  // Every word the parser takes at a workflow's statement start is offered there.
  const { text, offset } = withCursor(within('  |\n'));
  const start = labels(await complete(within('  |\n')));
  const fromParser = expectedAt(text, offset, text.indexOf('workflow results'));
  for (const w of fromParser.keywords) assert.ok(start.includes(w), `statement word ${w} offered`);
  // After `name =`: the request verbs the parser takes there.
  const afterEquals = labels(await complete(within('  x = |\n')));
  for (const verb of ['read', 'search', 'create', 'get', 'post']) assert.ok(afterEquals.includes(verb), verb);
});

test.run();
