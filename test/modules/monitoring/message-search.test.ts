// The dashboard's search over the journal's own keys (the module adds no index to `messages`): a
// control ID is found whichever sender sent it, and a sender's messages newest first both when
// they are among the recent traffic and when they lie behind more than SENDER_WINDOW rows of
// other senders' messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase } from '../../../runtime/journal/open-database.ts';
import { coreMigrations } from '../../../runtime/journal/core-migrations.ts';
import { migrations } from '../../../modules/monitoring/monitoring-schema.ts';
import { sqliteSql } from '../../../runtime/store/shared-sql.ts';
import { PAGE_SIZE, SENDER_WINDOW, searchMessages } from '../../../modules/monitoring/dashboard/message-search.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBody, parseMessage, splitBatch } from '../../../runtime/inbound/hl7/index.ts';
import { hl7CorpusDir } from '../../corpus.ts';

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

function journal() {
  const db = openDatabase(':memory:', { migrations: [...coreMigrations, ...migrations] });
  const insert = db.prepare(`INSERT INTO messages (sender, control_id, sending_system, content_hash, message_type, trigger, received_at, raw, charset, status, ack)
    VALUES (?, ?, 'SYS^FAC', ?, ?, ?, ?, NULL, 'utf-8', 'processed', 'MSA|AA')`);
  let n = 0;
  const add = db.transaction((rows: Array<[string, string, string]>) => {
    for (const [sender, controlId, type] of rows) insert.run(sender, controlId, `h${n}`, type, type === 'ADT' ? 'A01' : 'R01', T0 + n++);
  });
  return { db, sql: sqliteSql(db), add };
}

test('the module adds no index to the journal\'s messages', () => {
  const { db } = journal();
  const names = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'`).pluck().all() as string[]);
  assert.equal(names.filter((n) => n.startsWith('monitoring_')), []);
  db.close();
});

test('a control ID is found across senders, and only with the sender given when one is', async () => {
  const { db, sql, add } = journal();
  add([['lab', 'C1', 'ORU'], ['radiology', 'C1', 'ORU'], ['pharmacy', 'C2', 'ADT'], ['zeta', 'C1', 'ADT'], ['lab', 'C3', 'ORU']]);
  const all = await searchMessages(sql, { controlId: 'C1' });
  assert.equal(all.rows.map((r) => r.sender), ['zeta', 'radiology', 'lab'], 'newest first, every sender');
  assert.is(all.more, false);
  assert.equal((await searchMessages(sql, { controlId: 'C1', sender: 'radiology' })).rows.map((r) => r.sender), ['radiology']);
  assert.equal((await searchMessages(sql, { controlId: 'C1', type: 'ADT' })).rows.map((r) => r.sender), ['zeta']);
  assert.equal((await searchMessages(sql, { controlId: 'C2', sender: 'lab' })).rows, []);
  assert.equal((await searchMessages(sql, { controlId: 'nope' })).rows, []);
  db.close();
});

test('a sender\'s messages newest first, within the recent traffic and behind it', async () => {
  const { db, sql, add } = journal();
  // 120 messages of "quiet", then more than SENDER_WINDOW of "busy", one "quiet" among the last ones.
  add(Array.from({ length: 120 }, (_, i) => ['quiet', `Q${i}`, i % 2 ? 'ADT' : 'ORU'] as [string, string, string]));
  add(Array.from({ length: SENDER_WINDOW + 500 }, (_, i) => ['busy', `B${i}`, 'ORU'] as [string, string, string]));
  add([['quiet', 'Q-last', 'ADT'], ['busy', 'B-last', 'ORU']]);

  const first = await searchMessages(sql, { sender: 'quiet' });
  assert.is(first.rows.length, PAGE_SIZE);
  assert.is(first.more, true);
  assert.equal(first.rows.slice(0, 3).map((r) => r.controlId), ['Q-last', 'Q119', 'Q118']);
  const third = await searchMessages(sql, { sender: 'quiet' }, 2);
  assert.equal(third.rows.map((r) => r.controlId), Array.from({ length: 21 }, (_, i) => `Q${20 - i}`));
  assert.is(third.more, false);
  const adt = await searchMessages(sql, { sender: 'quiet', type: 'ADT' });
  assert.equal(adt.rows.slice(0, 2).map((r) => r.controlId), ['Q-last', 'Q119']);
  assert.is(adt.rows.length, PAGE_SIZE);
  assert.ok(adt.rows.every((r) => r.sender === 'quiet' && r.messageType === 'ADT'));

  const busy = await searchMessages(sql, { sender: 'busy' }, 1);
  assert.equal(busy.rows[0]!.controlId, `B${SENDER_WINDOW + 500 - PAGE_SIZE}`);
  assert.is(busy.more, true);
  assert.equal((await searchMessages(sql, { sender: 'nobody' })).rows, []);
  // A time range with a sender: the quiet sender's first ten messages.
  const ranged = await searchMessages(sql, { sender: 'quiet', from: T0, to: T0 + 10 });
  assert.equal(ranged.rows.map((r) => r.controlId), Array.from({ length: 10 }, (_, i) => `Q${9 - i}`));
  db.close();
});

test('the HL7 corpus: every message found by its MSH-10 and under its sending system, with its type', async () => {
  const dir = hl7CorpusDir();
  const { db, sql } = journal();
  const insert = db.prepare(`INSERT INTO messages (sender, control_id, sending_system, content_hash, message_type, trigger, received_at, raw, charset, status, ack)
    VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'utf-8', 'processed', 'MSA|AA')`);
  // The corpus's own control IDs, as partners send them (repeated ones included), one sender per
  // sending application so that lookups go through several senders' keys.
  const sent: Array<{ sender: string; controlId: string; type: string }> = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.hl7')).sort()) {
    for (const text of splitBatch(decodeBody(readFileSync(join(dir, file))).text, 'any').messages) {
      const h = parseMessage(text).header;
      const m = { sender: h.sendingApplication || 'unnamed', controlId: h.controlId, type: h.messageCode };
      insert.run(m.sender, m.controlId, `${h.sendingApplication}^${h.sendingFacility}`, `${file}#${sent.length}`, m.type, h.triggerEvent, T0 + sent.length);
      sent.push(m);
    }
  }
  assert.ok(sent.length >= 100, `${sent.length} corpus messages`);
  const failures: string[] = [];
  for (const m of sent) {
    const same = sent.filter((o) => o.controlId === m.controlId).length;
    const found = (await searchMessages(sql, { controlId: m.controlId })).rows;
    if (found.length !== Math.min(same, PAGE_SIZE)) failures.push(`MSH-10 "${m.controlId}": ${found.length} found, ${same} journaled`);
    if (!found.some((r) => r.sender === m.sender && r.messageType === m.type)) failures.push(`MSH-10 "${m.controlId}": not found under ${m.sender} as ${m.type}`);
  }
  for (const sender of new Set(sent.map((m) => m.sender))) {
    const mine = sent.filter((m) => m.sender === sender).length;
    const page = await searchMessages(sql, { sender });
    if (page.rows.length !== Math.min(mine, PAGE_SIZE) || page.rows.some((r) => r.sender !== sender)) failures.push(`sender ${sender}: ${page.rows.length} of ${mine}`);
  }
  assert.equal(failures, []);
  db.close();
});

test.run();
