// The resend key: the fingerprint that makes two messages "the same message", the journal's
// resend/reuse decisions, and the upgrade of a database journaled under (sender, control ID).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../../../runtime/journal/open-database.ts';
import { runMigrations } from '../../../runtime/journal/migrations.ts';
import { coreMigrations } from '../../../runtime/journal/core-migrations.ts';
import { Journal } from '../../../runtime/journal/group-commit.ts';
import type { JournalEntry } from '../../../runtime/journal/journal-writer.ts';
import { messageFingerprint, sendingSystemOf } from '../../../runtime/journal/message-fingerprint.ts';
import { parseMessage } from '../../../runtime/inbound/hl7/index.ts';

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-resend-key-'));
  dirs.push(dir);
  return join(dir, 'hdc.sqlite');
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const msg = (opts: { ts?: string; id?: string; app?: string; pid?: string } = {}) =>
  `MSH|^~\\&|${opts.app ?? 'LAB'}|FAC|HDC|HOSP|${opts.ts ?? '20240101120000'}||ADT^A01|${opts.id ?? 'C1'}|P|2.5.1\rPID|1||${opts.pid ?? '123'}\r`;

test('fingerprint: MSH-7 and MSH-10 do not count; every other character, MSH-3/MSH-4 included, does', () => {
  const base = messageFingerprint(msg());
  assert.is(messageFingerprint(msg({ ts: '20250606060606+0200' })), base);
  assert.is(messageFingerprint(msg({ id: 'OTHER' })), base);
  assert.is.not(messageFingerprint(msg({ app: 'LAB2' })), base);
  assert.is.not(messageFingerprint(msg({ pid: '124' })), base);
  assert.is.not(messageFingerprint(msg().replace('ADT^A01', 'ADT^A04')), base);
  // Other delimiters: the fields are found by the message's own separator.
  const hashes = ['20240101', '20991231'].map((ts) => messageFingerprint(`MSH#^~\\&#LAB#FAC#HDC#HOSP#${ts}##ADT^A01#C9#P#2.5.1\r`));
  assert.is(hashes[0], hashes[1]);
  // A short MSH (no MSH-10) still hashes.
  assert.is(messageFingerprint('MSH|^~\\&|A|B|C|D|1\r'), messageFingerprint('MSH|^~\\&|A|B|C|D|2\r'));
  assert.is(sendingSystemOf(parseMessage(msg()).header), 'LAB|FAC');
});

function entry(text: string, over: Partial<JournalEntry> = {}): JournalEntry {
  const h = parseMessage(text).header;
  return {
    sender: 'lab', controlId: h.controlId, sendingSystem: sendingSystemOf(h), contentHash: messageFingerprint(text), onReuse: 'accept',
    messageType: 'ADT', trigger: 'A01', receivedAt: Date.now(), raw: Buffer.from(text), charset: 'utf-8', status: 'accepted',
    ack: `ACK of ${text.length}`, runs: [{ workflow: 'w', orderKey: null, input: '{}' }], ...over,
  };
}

for (const thread of ['worker', 'inline'] as const) {
  test(`journal (${thread}): resend, reuse accepted, reuse refused, other sending system`, async () => {
    const file = tempFile();
    openDatabase(file).close();
    const journal = await Journal.open({ file, thread });
    const [first] = await journal.record([entry(msg())]);
    assert.ok(first!.kind === 'stored' && first!.reuseOf === null);
    const results = await journal.record([
      entry(msg({ ts: '20240202' }), { ack: 'never stored' }), // resend
      entry(msg({ pid: '999' })), // reuse, accepted
      entry(msg({ pid: '777' }), { onReuse: 'reject' }), // reuse, refused
      entry(msg({ app: 'OTHER' }), { onReuse: 'reject' }), // another system: a message of its own
    ]);
    assert.equal(results.map((r) => r.kind), ['duplicate', 'stored', 'reuse-refused', 'stored']);
    const [resend, reuse, refused, other] = results;
    assert.ok(resend!.kind === 'duplicate' && resend!.messageId === first!.messageId && resend!.ack === `ACK of ${msg().length}`);
    assert.ok(reuse!.kind === 'stored' && reuse!.reuseOf === first!.messageId && reuse!.runIds.length === 1);
    assert.ok(refused!.kind === 'reuse-refused' && refused!.reuseOf === first!.messageId);
    assert.ok(other!.kind === 'stored' && other!.reuseOf === null);
    await journal.close();
    const db = new Database(file, { readonly: true });
    assert.is((db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n, 3);
    assert.is((db.prepare('SELECT COUNT(*) AS n FROM workflow_runs').get() as { n: number }).n, 3);
    db.close();
  });
}

test('upgrade: a database keyed by (sender, control ID) is rebuilt; stored messages get their fingerprint; runs keep their messages', async () => {
  const file = tempFile();
  const old = new Database(file);
  old.pragma('journal_mode = WAL');
  old.pragma('foreign_keys = ON');
  runMigrations(old, coreMigrations.filter((m) => m.id === 'journal/001-messages' || m.id === 'journal/002-workflow-runs'));
  const insert = old.prepare(`INSERT INTO messages (sender, control_id, message_type, trigger, received_at, raw, charset, status, ack, content_purged_at)
    VALUES ('lab', ?, 'ADT', 'A01', 1, ?, ?, 'accepted', ?, ?)`);
  const kept = msg({ id: 'OLD-1' });
  const latin = msg({ id: 'OLD-2', pid: 'Müller' });
  insert.run('OLD-1', Buffer.from(kept.replace(/\r/g, '\r\n')), 'utf-8', 'ACK OLD-1', null); // stored as received, CRLF
  insert.run('OLD-2', Buffer.from(latin, 'latin1'), 'iso-8859-1', 'ACK OLD-2', null);
  insert.run('OLD-3', null, 'utf-8', 'ACK OLD-3', 5); // content purged
  insert.run('OLD-4', Buffer.from('not hl7 at all'), 'utf-8', 'ACK OLD-4', null);
  old.prepare(`INSERT INTO workflow_runs (message_id, sender, workflow, status, next_attempt_at, created_at, updated_at) VALUES (1, 'lab', 'w', 'done', 0, 0, 0)`).run();
  old.close();

  const db = openDatabase(file);
  assert.is(db.pragma('foreign_keys', { simple: true }), 1);
  const rows = db.prepare('SELECT control_id, sending_system, content_hash, ack FROM messages ORDER BY id').all() as Record<string, string | null>[];
  assert.equal(rows.map((r) => [r.control_id, r.sending_system, r.content_hash]), [
    ['OLD-1', 'LAB|FAC', messageFingerprint(kept)],
    ['OLD-2', 'LAB|FAC', messageFingerprint(latin)],
    ['OLD-3', '', null],
    ['OLD-4', '', null],
  ]);
  assert.is((db.prepare('SELECT message_id FROM workflow_runs').get() as { message_id: number }).message_id, 1);
  assert.throws(() => db.prepare(`INSERT INTO workflow_runs (message_id, sender, workflow, status, next_attempt_at, created_at, updated_at) VALUES (99, 'lab', 'w', 'queued', 0, 0, 0)`).run(), /FOREIGN KEY/);
  db.close();

  const journal = await Journal.open({ file, thread: 'inline' });
  const [resend, reuse, afterPurge] = await journal.record([
    entry(msg({ id: 'OLD-1', ts: '20991231' })),
    entry(msg({ id: 'OLD-2', pid: 'Meier' })),
    entry(msg({ id: 'OLD-3' })),
  ]);
  assert.ok(resend!.kind === 'duplicate' && resend!.ack === 'ACK OLD-1');
  assert.ok(reuse!.kind === 'stored' && reuse!.reuseOf === 2);
  assert.ok(afterPurge!.kind === 'stored' && afterPurge!.reuseOf === null, 'a purged message matches nothing: journaled again, never lost');
  await journal.close();
});

test.run();
