// Compiled workflows with let, assignment and value maps, run by the engine on a real SQLite file:
// the runtime gives variables the values the checker describes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../../runtime/workflows/engine.ts';
import { RunEvents, type FinishedEvent } from '../../../runtime/journal/run-events.ts';
import { compileSources } from '../../../compiler/api.ts';
import { mapFields } from '../../../runtime/inbound/map-fields.ts';
import { parseMessage } from '../../../runtime/inbound/hl7/index.ts';
import type { Plan } from '../../../plan/plan.types.ts';
import { enqueue, tempDb, type TempDb } from './fixtures.ts';

const source = `
map gender to "http://hl7.org/fhir/administrative-gender" { "F": "female", "M": "male", else: "unknown" }
map priority { "S": "stat" }

sender lab {
  path "/lab"
  version "2.5.1"
  accept ADT^A01
  fields {
    mrn = PID-3.1
    sex = PID-8 -> gender
    raw_sex = PID-8
    race = PID-10[*] -> .1 as list -> gender
  }
  on ADT^A01 run admit
}

workflow admit {
  let a = "one"
  a = "two"
  let note = "none"
  if mrn == "12345" {
    a = concat(a, "-three")
    note = "known"
  }
  if raw_sex == "F" {
    let branch = "then"
  } else {
    let branch = "else"
  }
  let g = gender(raw_sex)
  let p = priority(raw_sex)
  let absent = gender(null)
  store { a: a, note: note, branch: branch, g: g, p: p, absent: absent, sex: sex, race: race, list: gender(["M", "X", null]) } in "seen" key mrn
}
`;

function compiled(): Plan {
  const r = compileSources(new Map([['flows/admit.hdc', source]]));
  assert.ok(r.plan, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
  return r.plan!;
}

let t: TempDb;
test.before.each(() => { t = tempDb(); });
test.after.each(() => t.dispose());

test('mapped fields apply the map to values and to each item of a list; absent stays null', () => {
  const plan = compiled();
  const msg = parseMessage('MSH|^~\\&|LAB|LABFAC|HDC|HOSP|20240315103000||ADT^A01|C1|P|2.5.1\rPID|1||12345||Doe^Jane||19800215|F||M~Q~\r');
  const fields = mapFields(msg, plan.senders[0]!.fields);
  assert.is(fields.sex, 'female');
  assert.is(fields.raw_sex, 'F');
  assert.equal(fields.race, ["male", "unknown", null]);
  const bare = parseMessage('MSH|^~\\&|LAB|LABFAC|HDC|HOSP|20240315103000||ADT^A01|C2|P|2.5.1\rPID|1||12345\r');
  assert.is(mapFields(bare, plan.senders[0]!.fields).sex, null);
});

test('let, assignment inside and outside an if, and map calls give the values the source says', async () => {
  const plan = compiled();
  const events = new RunEvents();
  const finished: FinishedEvent[] = [];
  const done = new Promise<void>((resolve) => events.on('finished', (e) => { finished.push(e); if (finished.length === 2) resolve(); }));
  const engine = new Engine({ db: t.db, plan, retryBaseMs: 20, retryMaxMs: 50, pollMs: 20, events });
  engine.start();
  try {
    const ids = [
      ...enqueue(t.journal, [{ workflow: 'admit', fields: { mrn: '12345', sex: 'female', raw_sex: 'F', race: [] } }]),
      ...enqueue(t.journal, [{ workflow: 'admit', fields: { mrn: '999', sex: 'unknown', raw_sex: 'Z', race: null } }]),
    ];
    events.emit('enqueued', { runIds: ids, messageId: 1, sender: 'lab' });
    await done;
    assert.equal(finished.map((f) => f.status), ['done', 'done']);
    const byKey = Object.fromEntries(engine.store.records('seen').map((r) => [r.key, r.value]));
    assert.equal(byKey['12345'], { a: 'two-three', note: 'known', branch: 'then', g: 'female', p: null, absent: null, sex: 'female', race: [], list: ['male', 'unknown', null] });
    assert.equal(byKey['999'], { a: 'two', note: 'none', branch: 'else', g: 'unknown', p: null, absent: null, sex: 'unknown', race: null, list: ['male', 'unknown', null] });
  } finally {
    await engine.stop();
  }
});

test.run();
