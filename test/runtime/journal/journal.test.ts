// The journal on a real SQLite file: migrations, group commit in the worker thread and inline,
// duplicates within and across batches, the final ACK of after_workflow, retention, run events.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../../../runtime/journal/open-database.ts';
import { runMigrations, type Migration } from '../../../runtime/journal/migrations.ts';
import { coreMigrations } from '../../../runtime/journal/core-migrations.ts';
import { Journal } from '../../../runtime/journal/group-commit.ts';
import type { JournalEntry } from '../../../runtime/journal/journal-writer.ts';
import { RunEvents } from '../../../runtime/journal/run-events.ts';

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-journal-'));
  dirs.push(dir);
  const file = join(dir, 'hdc.sqlite');
  openDatabase(file).close();
  return file;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function entry(controlId: string, over: Partial<JournalEntry> = {}): JournalEntry {
  return {
    sender: 'lab', controlId, sendingSystem: 'LAB|LABFAC', contentHash: `hash of ${controlId}`, onReuse: 'accept', messageType: 'ADT', trigger: 'A01', receivedAt: Date.now(), raw: Buffer.from(`MSH|^~\\&|${controlId}\r`),
    charset: 'utf-8', status: 'accepted', ack: `ACK ${controlId}`, runs: [{ workflow: 'w', orderKey: null, input: '{"fields":{}}' }], ...over,
  };
}

test('openDatabase: WAL, synchronous=FULL, the journal tables, migrations applied once', () => {
  const file = tempDb();
  const db = openDatabase(file);
  assert.is(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.is(db.pragma('synchronous', { simple: true }), 2); // FULL
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name);
  for (const t of ['messages', 'workflow_runs', 'schema_migrations']) assert.ok(tables.includes(t), t);
  const applied = (db.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map((r) => r.id);
  assert.ok(applied.includes('journal/001-messages') && applied.includes('journal/002-workflow-runs'));
  assert.equal(runMigrations(db, coreMigrations), []);
  db.close();
});

test('modules append their own migrations after the core, applied once in order and recorded', () => {
  const file = tempDb();
  const extra: Migration[] = [
    { id: 'test/001-extra', up: 'CREATE TABLE extra_things (id INTEGER PRIMARY KEY)' },
    { id: 'test/002-extra-index', up: 'CREATE INDEX extra_things_id ON extra_things (id)' },
  ];
  const db = openDatabase(file, { migrations: [...coreMigrations, ...extra] });
  assert.ok(db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'extra_things_id'`).get());
  const applied = (db.prepare('SELECT id FROM schema_migrations ORDER BY rowid').all() as { id: string }[]).map((r) => r.id);
  assert.equal(applied.slice(-2), ['test/001-extra', 'test/002-extra-index']);
  assert.equal(runMigrations(db, [...coreMigrations, ...extra]), []);
  db.close();
});

for (const thread of ['worker', 'inline'] as const) {
  test(`group commit (${thread}): concurrent records share transactions; duplicates resolve to the first`, async () => {
    const file = tempDb();
    const journal = await Journal.open({ file, thread });
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => journal.record([entry(`M${i % 400}`)])));
    assert.ok(journal.stats.batches < 100, `batches: ${journal.stats.batches}`);
    assert.ok(journal.stats.largestBatch > 1);
    const stored = results.filter((r) => r[0]!.kind === 'stored');
    const dups = results.filter((r) => r[0]!.kind === 'duplicate');
    assert.is(stored.length, 400);
    assert.is(dups.length, 100);
    const d = dups[0]![0]!;
    assert.ok(d.kind === 'duplicate' && d.ack.startsWith('ACK M'));
    // A batch recording the same key twice keeps one row.
    const [a, b] = await journal.record([entry('SAME'), entry('SAME', { ack: 'second' })]);
    assert.is(a!.kind, 'stored');
    assert.ok(b!.kind === 'duplicate' && b!.ack === 'ACK SAME');
    await journal.close();
    const db = new Database(file, { readonly: true });
    assert.is((db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n, 401);
    assert.is((db.prepare('SELECT COUNT(*) AS n FROM workflow_runs').get() as { n: number }).n, 401);
    // Each row holds its own message's bytes (batches travel to the writer packed in one buffer).
    const raws = db.prepare('SELECT control_id, raw FROM messages').all() as { control_id: string; raw: Buffer }[];
    assert.equal(raws.filter((r) => r.raw.toString() !== `MSH|^~\\&|${r.control_id}\r`), []);
    const run = db.prepare('SELECT * FROM workflow_runs LIMIT 1').get() as Record<string, unknown>;
    assert.is(run.status, 'queued');
    assert.is(run.attempts, 0);
    db.close();
  });
}

test('close() finishes pending writes before closing', async () => {
  const file = tempDb();
  const journal = await Journal.open({ file });
  const pending = Array.from({ length: 50 }, (_, i) => journal.record([entry(`P${i}`)]));
  await journal.close();
  const results = await Promise.all(pending);
  assert.is(results.length, 50);
  const db = new Database(file, { readonly: true });
  assert.is((db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n, 50);
  db.close();
  await journal.record([entry('late')]).then(() => assert.unreachable('closed journal accepted a write'), (err: Error) => assert.match(err.message, /closed/));
});

test('updateAck records the final ACK; retention purges content but keeps metadata', async () => {
  const file = tempDb();
  const journal = await Journal.open({ file });
  const day = 86_400_000;
  const [old] = await journal.record([entry('OLD', { receivedAt: Date.now() - 40 * day })]);
  const [fresh] = await journal.record([entry('NEW')]);
  assert.ok(old!.kind === 'stored' && fresh!.kind === 'stored');
  await journal.updateAck(old!.messageId, 'FINAL', 'processed');
  const db = openDatabase(file, { migrate: false });
  db.prepare(`UPDATE workflow_runs SET status = 'done'`).run();
  const purged = await journal.purgeContent(Date.now() - 30 * day);
  assert.ok(purged >= 1);
  const rows = db.prepare('SELECT control_id, raw, content_purged_at, ack, status FROM messages ORDER BY id').all() as Record<string, unknown>[];
  assert.is(rows[0]!.raw, null);
  assert.ok(typeof rows[0]!.content_purged_at === 'number');
  assert.is(rows[0]!.ack, 'FINAL');
  assert.is(rows[0]!.status, 'processed');
  assert.ok(Buffer.isBuffer(rows[1]!.raw));
  assert.is(rows[1]!.content_purged_at, null);
  const inputs = db.prepare('SELECT input FROM workflow_runs ORDER BY id').all() as { input: string | null }[];
  assert.equal(inputs.map((r) => r.input === null), [true, false]);
  db.close();
  await journal.close();
});

test('run events: waitForFinished sees runs that finished before or after it started waiting', async () => {
  const events = new RunEvents();
  events.emit('finished', { runId: 1, status: 'done' });
  assert.equal(await events.waitForFinished(1, 50), { runId: 1, status: 'done' });
  const waiting = events.waitForFinished(2, 1000);
  setTimeout(() => events.emit('finished', { runId: 2, status: 'rejected', outcome: { code: 'AE', text: 'x' } }), 10);
  assert.equal(await waiting, { runId: 2, status: 'rejected', outcome: { code: 'AE', text: 'x' } });
  assert.is(await events.waitForFinished(3, 30), null);
});

test.run();
