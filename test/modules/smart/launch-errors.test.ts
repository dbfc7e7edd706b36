// Each class of launch failure has its own page text and status, and its cause in the log
// (without tokens, codes or patient data): an RFC 9207 mix-up, a `launch` id the EHR does not
// know, a read refused because a scope was not granted (403: retrying cannot fix it), the FHIR
// server failing (502: retrying may).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../../runtime/platform/log/logger.ts';
import { CookieJar, walkRedirects, type WalkResult } from '../../peers/redirect-walker.ts';
import { startSmartStack, type SmartStack } from '../../peers/smart-stack.ts';
import { compileHdc, freePort, memoryLog, startConnector, startFormPages, type ConnectorRuntime, type FormPages } from './smart-harness.ts';
import { fixturePatients, launchHdc } from './launch-fixture.ts';

process.env.INTAKE_SECRET = 'intake-secret';
process.env.FORM_KEY = 'form-signing-key';
const { child, medicated } = fixturePatients();

let stack: SmartStack;
let forms: FormPages;
let rt: ConnectorRuntime;
let base: string;
const log = memoryLog();

test.before(async () => {
  forms = await startFormPages();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await startSmartStack({
    fhir: { seed: [child.file, medicated.file] },
    auth: {
      clients: [
        { clientId: 'intake-app', clientSecret: 'intake-secret', redirectUris: [`${base}/smart/intake/callback`, `${base}/smart/byref/callback`] },
        // The EHR grants this client no Observation scope, whatever it asks for.
        { clientId: 'narrow-app', clientSecret: 'intake-secret', redirectUris: [`${base}/smart/narrow/callback`, `${base}/smart/lenient/callback`], allowedScopes: ['patient/Patient.rs', 'patient/MedicationRequest.rs'] },
      ],
      users: [{ username: 'dr.who', password: 'tardis', fhirUser: 'Practitioner/who-1' }],
      interaction: 'auto',
    },
  });
  // The second client reuses the first block whole but for its client id (`extends`).
  const text = `${launchHdc({ fhirBase: stack.fhir.baseUrl, formsOrigin: forms.origin })}
smart launch narrow extends intake {
  client_id "narrow-app"
}

smart launch byref extends intake {
  fetch {
    patient = read Patient context.fhirContext[0].reference
  }
}

smart launch lenient extends intake {
  client_id "narrow-app"
  fetch {
    patient = read Patient context.patient
    vitals = search Observation { patient: "Patient/{context.patient}" } optional
  }
  map { given: patient.name[0].given[0] }
  redirect {
    when not has_scope("patient/Observation.rs")
      to "${forms.origin}/general" with { given: data.given, vitals: exists(vitals), meds: has_scope("patient/MedicationRequest.read"), granted: count(scopes.granted) }
    otherwise to "${forms.origin}/meds"
  }
}
`;
  rt = await startConnector(compileHdc(text), port, { log: createLogger({ level: 'debug', destination: log.destination }) });
});

test.after(async () => {
  await rt?.stop();
  await stack?.close();
  await forms?.close();
});

const toForms = (u: URL) => u.origin === forms.origin;

function logLine(page: WalkResult): string {
  const id = /id="correlation-id">([0-9a-f]+)</.exec(page.body)?.[1];
  assert.ok(id, page.body.slice(0, 300));
  const line = log.lines.find((l) => l.includes(id!));
  assert.ok(line, 'a log line carries the correlation id');
  return line!;
}

test('mix-up (RFC 9207): a callback whose iss is not the EHR\'s issuer is refused as such, and logged as such', async () => {
  stack.auth.registerLaunch('E-mixup', { patient: child.id });
  const jar = new CookieJar();
  const r = await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=E-mixup`, {
    jar, stopWhen: (u) => u.pathname === '/smart/intake/callback',
  });
  const callback = new URL(r.url);
  assert.is(callback.searchParams.get('iss'), stack.auth.issuer);
  callback.searchParams.set('iss', 'https://other-as.example.org');
  const page = await walkRedirects(callback.href, { jar, stopWhen: toForms });
  assert.is(page.status, 400);
  assert.match(page.body, /did not come from the server that started this launch/);
  const line = logLine(page);
  assert.match(line, /mix-up refused \(RFC 9207\)/);
  assert.match(line, /https:\/\/other-as\.example\.org/);
  assert.ok(line.includes(stack.auth.issuer));
  assert.not.match(line, /invalid response encountered"/);
  assert.not.ok(line.includes(callback.searchParams.get('code')!), 'the code is not logged');
});

test('an unknown launch id: 400 and a page that says to open the app again from the EHR', async () => {
  const page = await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=never-registered`, { stopWhen: toForms });
  assert.is(page.status, 400);
  assert.match(page.body, /did not recognise this launch/);
  assert.not.match(page.body, /Try again later/);
  assert.match(logLine(page), /answered invalid_request \(unknown launch\)/);
});

test('a read refused because its scope was not granted: 403, a page that does not say "try again", the step in the log', async () => {
  stack.auth.registerLaunch('E-scope', { patient: child.id });
  const page = await walkRedirects(`${base}/smart/narrow/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=E-scope`, { stopWhen: toForms });
  assert.is(page.status, 403);
  assert.match(page.body, /did not grant this app access/);
  assert.match(page.body, /Trying again will not help/);
  const line = logLine(page);
  assert.match(line, /launch\.hdc:\d+: GET launch narrow Observation failed: 403/);
  // The granted scopes were compared with the asked ones when the token came.
  assert.ok(log.lines.some((l) => l.includes('scopes not granted') && l.includes('patient/Observation.rs')));
});

test('fetch … optional: a 403 is null and the launch goes on; has_scope and scopes.granted see what the EHR granted', async () => {
  stack.auth.registerLaunch('E-lenient', { patient: child.id });
  const page = await walkRedirects(`${base}/smart/lenient/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=E-lenient`, { stopWhen: toForms });
  assert.ok(page.stopped, `${page.status} ${page.body.slice(0, 300)}`);
  const url = new URL(page.url);
  assert.is(url.pathname, '/general');
  assert.is(url.searchParams.get('given'), child.given);
  assert.is(url.searchParams.get('vitals'), 'false');
  assert.is(url.searchParams.get('meds'), 'true', 'v1 .read asked, v2 .rs granted');
  assert.ok(Number(url.searchParams.get('granted')) >= 2);
  assert.ok(stack.fhir.requests.some((r) => r.path.startsWith('/fhir/Observation') && r.status === 403), 'the Observation search was refused');
});

test('read by reference: read Patient context.fhirContext[0].reference', async () => {
  stack.auth.registerLaunch('E-ref', { fhirContext: [{ reference: `Patient/${child.id}` }] });
  const page = await walkRedirects(`${base}/smart/byref/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=E-ref`, { stopWhen: toForms });
  assert.ok(page.stopped, `${page.status} ${page.body.slice(0, 300)}`);
  assert.is(new URL(page.url).pathname, '/peds');
  assert.is(new URL(page.url).searchParams.get('given'), child.given);
  // An absolute reference on another server is refused, never requested.
  stack.auth.registerLaunch('E-ref-away', { fhirContext: [{ reference: `https://elsewhere.example.org/fhir/Patient/${child.id}` }] });
  const away = await walkRedirects(`${base}/smart/byref/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=E-ref-away`, { stopWhen: toForms });
  assert.is(away.status, 502);
  assert.match(logLine(away), /the reference is to https:\/\/elsewhere\.example\.org, not this FHIR server/);
});

test('the FHIR server failing stays a 502 with "try again later"', async () => {
  stack.fhir.fault({ status: 503, times: 4, pathPrefix: '/fhir/MedicationRequest' });
  stack.auth.registerLaunch('E-503', { patient: medicated.id });
  const page = await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=E-503`, { stopWhen: toForms });
  stack.fhir.clearFaults?.();
  assert.is(page.status, 502);
  assert.match(page.body, /Try again later/);
});

test('no token, code or patient data in any log line', () => {
  const all = log.lines.join('\n');
  assert.not.match(all, /eyJ[A-Za-z0-9_-]{10,}\./, 'a JWT in the log');
  for (const p of [child, medicated]) {
    assert.not.ok(all.includes(p.id), 'patient id in the log');
    assert.not.ok(all.includes(p.family), 'family name in the log');
  }
});

test.run();
