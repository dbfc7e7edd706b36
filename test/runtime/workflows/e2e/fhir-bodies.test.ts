// What reaches the EHR is valid FHIR, end to end: an .hdc compiled as users write it (HL7 v2.3
// with LF line endings, ADT^A08 and SIU^S12, a sender in Europe/London), messages posted to the
// real listener, the real engine, and the in-memory FHIR server (medplum router) whose received
// bodies are asserted exactly: absent HL7 fields leave no nulls or empty values, date-times carry
// the offset in force at that wall time (winter, summer, the repeated hour), dates stay dates,
// and a body that is not valid R4 fails its step with the problems and the .hdc line, before any
// request leaves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import got from 'got';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSources } from '../../../../compiler/api.ts';
import type { Plan } from '../../../../plan/plan.types.ts';
import { Engine } from '../../../../runtime/workflows/engine.ts';
import { RunEvents } from '../../../../runtime/journal/run-events.ts';
import { silentLogger } from '../../../../runtime/platform/log/logger.ts';
import { mapFields } from '../../../../runtime/inbound/map-fields.ts';
import { orderKeyFor } from '../../../../runtime/inbound/order-key.ts';
import { startRuntime, type Runtime } from '../../../../runtime/platform/start-runtime.ts';
import { startFhirServer, type FhirServer } from '../../../peers/fhir-server.ts';

const HDC = (fhirBase: string) => `
api ehr fhir "${fhirBase}" {
  validate fhir
}

sender hospital {
  path "/hl7/hospital"
  version "2.3"
  match MSH-4.1 == "HOSP"
  accept ADT^A08, ADT^A04, SIU^S12
  line_endings lf
  timezone "Europe/London"
  ack after_workflow 10s
  fields {
    mrn = PID-3.1
    family = PID-5.1
    given = PID-5.2
    middle = PID-5.3
    birth_date = PID-7 as date
    birth_as_sent = PID-7
    phone = PID-13.1
    appointment_id = SCH-1.1
    start = SCH-11.4 as datetime
    end = SCH-11.5 as datetime
    reason = SCH-7.2
  }
  on ADT^A08 run update_patient
  on ADT^A04 run register
  on SIU^S12 run book
}

workflow update_patient {
  patient = update ehr Patient where { identifier: "urn:hosp:mrn|{mrn}" } body {
    identifier: [{ system: "urn:hosp:mrn", value: mrn }],
    name: [{ family: family, given: [given, middle] }],
    telecom: [{ system: "phone", value: phone }],
    birthDate: birth_date
  }
}

workflow register {
  patient = create ehr Patient body {
    identifier: [{ system: "urn:hosp:mrn", value: mrn }],
    birthDate: birth_as_sent
  }
}

workflow book {
  patient = search ehr Patient { identifier: "urn:hosp:mrn|{mrn}" }
  appointment = create ehr Appointment body {
    status: "booked",
    identifier: [{ system: "urn:hosp:appointment", value: appointment_id }],
    description: reason,
    start: start,
    end: end,
    participant: [{ actor: { reference: "Patient/{patient.entry[0].resource.id}" }, status: "accepted" }]
  }
}
`;

let fhir: FhirServer;
let runtime: Runtime;
let engine: Engine;
let dir: string;
let plan: Plan;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hdc-fhir-bodies-'));
  fhir = await startFhirServer();
  const compiled = compileSources(new Map([['flows/hospital.hdc', HDC(fhir.baseUrl)]]));
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors, []);
  plan = compiled.plan!;
  const events = new RunEvents();
  runtime = await startRuntime(plan, {
    host: '127.0.0.1', port: 0, tls: null, dataDir: dir, maxBodyBytes: 1 << 20, requestTimeoutMs: 15_000, shutdownTimeoutMs: 2000,
    logPhi: false, log: silentLogger(), mapFields, orderKeyFor, events, journalThread: 'inline',
  });
  engine = new Engine({ db: runtime.db, plan, events, maxAttempts: 1 });
  engine.start();
  runtime.addService({ stop: () => engine.stop() });
});

test.after(async () => {
  await runtime?.close();
  await fhir?.close();
  rmSync(dir, { recursive: true, force: true });
});

test.before.each(() => {
  fhir.requests.length = 0;
});

let control = 0;
/** A v2.3 message with LF line endings, as the hospital sends it; answers after the workflow (ack after_workflow). */
async function send(type: string, ...segments: string[]): Promise<string> {
  const msh = `MSH|^~\\&|PAS|HOSP|HDC|EHR|20240320093000||${type}|M${++control}|P|2.3`;
  const res = await got.post(`${runtime.url}/hl7/hospital`, {
    body: [msh, ...segments].join('\n') + '\n', headers: { 'content-type': 'application/hl7-v2; charset=utf-8' }, throwHttpErrors: false,
  });
  assert.is(res.statusCode, 200, res.body);
  return res.body;
}

function lastRun(): { status: string; error: string | null } {
  return runtime.db.prepare('SELECT status, error FROM workflow_runs ORDER BY id DESC LIMIT 1').get() as { status: string; error: string | null };
}

const writes = () => fhir.requests.filter((r) => r.method === 'POST' || r.method === 'PUT');

test('ADT^A08 with absent fields: the Patient body has no nulls and no empty values', async () => {
  const ack = await send('ADT^A08', 'EVN|A08|20240320093000', 'PID|1||M100^^^HOSP^MR||Smith^Anna||19800101|F');
  assert.match(ack, /\rMSA\|AA\|M\d+/, ack);
  assert.is(lastRun().status, 'done', lastRun().error ?? '');
  const [put] = writes();
  assert.is(put.method, 'PUT');
  assert.is(put.path, '/fhir/Patient');
  assert.equal(put.query, { identifier: 'urn:hosp:mrn|M100' });
  assert.equal(put.body, {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:hosp:mrn', value: 'M100' }],
    name: [{ family: 'Smith', given: ['Anna'] }],
    telecom: [{ system: 'phone' }],
    birthDate: '1980-01-01',
  });
  assert.is(put.status, 201);
});

test('SIU^S12: the Appointment times carry the Europe/London offset of their date', async () => {
  const book = async (id: string, start: string, end: string) => {
    const ack = await send('SIU^S12', `SCH|${id}^HOSP||||||^Follow-up||||^^30^${start}^${end}`, 'PID|1||M100^^^HOSP^MR||Smith^Anna');
    assert.match(ack, /\rMSA\|AA\|M\d+/, ack);
    assert.is(lastRun().status, 'done', lastRun().error ?? '');
    return writes().filter((r) => r.path === '/fhir/Appointment').at(-1)!;
  };
  const winter = await book('APT-1', '20240320093000', '20240320100000');
  assert.is(winter.status, 201);
  const patientId = (fhir.requests.find((r) => r.path === '/fhir/Patient' && r.method === 'GET')!.query as { identifier: string }).identifier;
  assert.is(patientId, 'urn:hosp:mrn|M100');
  const reference = (winter.body as { participant: Array<{ actor: { reference: string } }> }).participant[0].actor.reference;
  assert.match(reference, /^Patient\/[\w-]+$/);
  assert.equal(winter.body, {
    resourceType: 'Appointment',
    status: 'booked',
    identifier: [{ system: 'urn:hosp:appointment', value: 'APT-1' }],
    description: 'Follow-up',
    start: '2024-03-20T09:30:00+00:00',
    end: '2024-03-20T10:00:00+00:00',
    participant: [{ actor: { reference }, status: 'accepted' }],
  });
  const summer = await book('APT-2', '20240701093000', '20240701100000');
  assert.equal([(summer.body as { start: string }).start, (summer.body as { end: string }).end], ['2024-07-01T09:30:00+01:00', '2024-07-01T10:00:00+01:00']);
  // 01:30 on 27 October 2024 happens twice in London: the first (BST) is taken.
  const repeated = await book('APT-3', '20241027013000', '20241027020000+0000');
  assert.equal([(repeated.body as { start: string }).start, (repeated.body as { end: string }).end], ['2024-10-27T01:30:00+01:00', '2024-10-27T02:00:00+00:00']);
});

test('an invalid body fails its step with the problems and the .hdc line; nothing is sent', async () => {
  const ack = await send('ADT^A04', 'EVN|A04|20240320093000', 'PID|1||M200^^^HOSP^MR||Jones^Bob||19800101');
  assert.match(ack, /\rMSA\|AE\|M\d+/, ack);
  const run = lastRun();
  assert.is(run.status, 'dead');
  assert.match(run.error!, /^flows\/hospital\.hdc:\d+: create Patient: the body is not valid FHIR R4 \(1 problem\): Patient\.birthDate: Invalid date format$/);
  const line = Number(/hospital\.hdc:(\d+)/.exec(run.error!)![1]);
  assert.match(HDC('x').split('\n')[line - 1]!, /patient = create ehr Patient body/);
  assert.equal(writes(), []);
  const step = runtime.db.prepare("SELECT status, error FROM run_steps WHERE step_id = 'patient' AND status = 'failed'").get() as { status: string; error: string };
  assert.is(step.status, 'failed');
  assert.match(step.error, /Patient\.birthDate: Invalid date format/);
});

test.run();
