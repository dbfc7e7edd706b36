// The attempt history on disk: a database from before it upgrades in place; an attempt cut short
// by a crash is recorded as interrupted; a replay keeps the count, records who asked, and gives
// the run its whole retry budget again.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../../runtime/workflows/engine.ts';
import { RunStore } from '../../../runtime/workflows/run-store.ts';
import { RunEvents } from '../../../runtime/journal/run-events.ts';
import { runMigrations } from '../../../runtime/journal/migrations.ts';
import { coreMigrations } from '../../../runtime/journal/core-migrations.ts';
import { openDatabase } from '../../../runtime/journal/open-database.ts';
import { api, enqueue, journalFor, lit, plan, src, tempDb, workflow } from './fixtures.ts';

let answer: (res: ServerResponse) => void = (res) => res.end('{}');
const server = createServer((_req, res) => answer(res));
let base = '';
test.before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(() => new Promise<void>((r) => server.close(() => r())));

const p = () => plan({
  apis: [api('x', 'rest', base, { retry: { attempts: 2, backoffMs: 5, maxBackoffMs: 10 } })],
  workflows: [workflow('w', [{ id: 'get', named: true, kind: 'rest', api: 'x', method: 'GET', urlPath: lit('/thing'), src: src(3) }])],
});

function settled(events: RunEvents, id: number): Promise<string> {
  return new Promise((resolve) => {
    const on = (e: { runId: number; status: string }) => {
      if (e.runId !== id) return;
      events.off('finished', on);
      resolve(e.status);
    };
    events.on('finished', on);
  });
}

test('a database from before the attempt history upgrades in place; its runs are kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-upgrade-'));
  try {
    const file = join(dir, 'hdc.sqlite');
    const old = new Database(file);
    runMigrations(old, coreMigrations.filter((m) => m.id !== 'engine/004-run-attempts'));
    const [id] = enqueue(journalFor(old), [{ workflow: 'w' }]);
    assert.throws(() => old.prepare('SELECT * FROM run_attempts').all(), /no such table/);
    old.close();

    const db = openDatabase(file);
    try {
      const store = new RunStore(db);
      assert.is(store.run(id)!.status, 'queued');
      assert.equal(store.attempts(id), []);
      assert.ok((db.prepare('SELECT id FROM schema_migrations').all() as Array<{ id: string }>).some((m) => m.id === 'engine/004-run-attempts'));
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an attempt cut short by a crash is recorded as interrupted when the engine starts again', async () => {
  const t = tempDb();
  try {
    const [id] = enqueue(t.journal, [{ workflow: 'w' }]);
    // What a process that died during attempt 1 leaves behind.
    t.db.prepare(`UPDATE workflow_runs SET status = 'running', attempts = 1, updated_at = ? WHERE id = ?`).run(Date.now() - 500, id);
    const events = new RunEvents();
    const engine = new Engine({ db: t.db, plan: p(), events, writer: 'inline', pollMs: 20 });
    const done = settled(events, id);
    engine.start();
    assert.is(await done, 'done');
    await engine.stop();
    const history = new RunStore(t.db).attempts(id).map((a) => [a.attempt, a.status, a.error]);
    assert.equal(history, [[1, 'interrupted', 'the process stopped during this attempt'], [2, 'done', null]]);
  } finally {
    t.dispose();
  }
});

test('a replay keeps the attempt count, records who asked, and restores the retry budget', async () => {
  const t = tempDb();
  try {
    answer = (res) => res.writeHead(503).end();
    const events = new RunEvents();
    const engine = new Engine({ db: t.db, plan: p(), events, pollMs: 20 });
    engine.start();
    const [id] = enqueue(t.journal, [{ workflow: 'w' }]);
    let end = settled(events, id);
    engine.pump();
    assert.is(await end, 'dead');
    assert.is(engine.store.run(id)!.attempts, 2);

    // Still failing: the replay gets the API's two attempts again, counted on from 2.
    assert.ok(engine.store.replay(id, Date.now(), false, 'night-shift'));
    end = settled(events, id);
    engine.pump();
    assert.is(await end, 'dead');
    const run = engine.store.run(id)!;
    assert.is(run.attempts, 4);
    assert.match(run.error!, /503 Service Unavailable after 2 attempts$/);
    assert.equal(engine.store.attempts(id).map((a) => [a.attempt, a.status, a.http_status]), [[1, 'failed', 503], [2, 'dead', 503], [3, 'failed', 503], [4, 'dead', 503]]);
    assert.equal(engine.store.replays(id).map((r) => [r.by, r.after_attempt, r.from_start]), [['night-shift', 2, 0]]);
    await engine.stop();
  } finally {
    answer = (res) => res.end('{}');
    t.dispose();
  }
});

test.run();
