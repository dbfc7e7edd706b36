// The rollups' flush: counts added to what is stored (a second writer's counts add up, as two
// runtimes of a cluster do), and kept while the database cannot be written, then written once:
// nothing lost, nothing counted twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase } from '../../../runtime/journal/open-database.ts';
import { coreMigrations } from '../../../runtime/journal/core-migrations.ts';
import { migrations } from '../../../modules/monitoring/monitoring-schema.ts';
import { MINUTE, Rollups } from '../../../modules/monitoring/rollups.ts';
import { sqliteSql, type SharedSql } from '../../../runtime/store/shared-sql.ts';

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

test('two writers add into the same minute rows; a failed flush is written later, once', async () => {
  const db = openDatabase(':memory:', { migrations: [...coreMigrations, ...migrations] });
  const sql = sqliteSql(db);
  let down = false;
  let statements = 0;
  // The second writer's database goes away for a while (a flush writes in one transaction).
  const flaky: SharedSql = {
    ...sql,
    transaction: async (fn) => {
      if (down) throw new Error('connection refused');
      return sql.transaction((tx) => fn({ ...tx, run: (text, params) => (statements++, tx.run(text, params)) }));
    },
  };
  const a = new Rollups(sql);
  const b = new Rollups(flaky);
  const errors: string[] = [];
  b.onError = (err) => errors.push(err.message);
  for (let i = 0; i < 3; i++) a.countMessage('lab', 'ADT^A01', 'AA', T0 + i, 4);
  b.countMessage('lab', 'ADT^A01', 'AA', T0 + 10, 40);
  b.countRun('admit', 'done', T0);
  down = true;
  await a.flush();
  await b.flush().then(() => assert.unreachable('the flush should fail'), () => undefined);
  assert.equal(errors, ['connection refused']);
  let totals = await a.senderSummaries(T0, T0 + MINUTE);
  assert.is(totals[0]!.count, 3, 'only what was written');
  // Counted meanwhile, and the database back: both flushes' counts written.
  b.countMessage('lab', 'ADT^A01', 'AA', T0 + 20, 4);
  down = false;
  await b.flush();
  assert.ok(statements > 0);
  totals = await a.senderSummaries(T0, T0 + MINUTE);
  assert.is(totals[0]!.count, 5);
  assert.is((await a.messageTotals(T0, T0 + MINUTE))[0]!.buckets.reduce((x, y) => x + y, 0), 5);
  assert.equal(await a.runTotals(T0, T0 + MINUTE), [{ workflow: 'admit', status: 'done', count: 1 }]);
  assert.is((await a.lastMessages()).get('lab'), T0 + 20);
  // The hourly rows hold the same.
  assert.is((await a.senderSummaries(T0, T0 + 7 * 86_400_000))[0]!.count, 5);
  // Nothing left to write: a further flush writes nothing again.
  const before = statements;
  await b.flush();
  assert.is(statements, before);
  assert.is((await a.senderSummaries(T0, T0 + MINUTE))[0]!.count, 5);
  db.close();
});

test.run();
