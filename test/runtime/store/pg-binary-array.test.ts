// Binary array parameters read back by a real server: every element type the store sends, NULLs,
// multi-byte text, arbitrary bytes and epoch milliseconds beyond 2^32, and the empty array.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './pg-test-db.ts';
import { skipBecause } from '../../harness/skip.ts';
import { binaryArray } from '../../../runtime/store/postgres/pg-binary-array.ts';

let db: TestDatabase | null = null;
let client: pg.Client;

test.before(async () => {
  db = await createTestDatabase('binary_array');
  if (!db) return;
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
test.after(async () => {
  await client?.end();
  await db?.drop();
});

test('text, bytea, int8 and int4 arrays arrive as sent', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const texts = ['plain', 'Müller "quoted" {braces}, comma\\backslash', '', null, '日本語'];
  const bytes = [Buffer.from([0, 1, 2, 255]), new Uint8Array(0), null];
  const big = [0, 1796292390267, 2 ** 53 - 1, -5, null];
  const small = [0, -1, 2 ** 31 - 1, null];
  const { rows } = await client.query(
    `SELECT $1::text[] AS t, $2::bytea[] AS b, (SELECT array_agg(x::text) FROM unnest($3::bigint[]) x) AS i8, $4::int[] AS i4, cardinality($5::text[]) AS empty`,
    [binaryArray('text', texts), binaryArray('bytea', bytes), binaryArray('int8', big), binaryArray('int4', small), binaryArray('text', [])],
  );
  const r = rows[0];
  assert.equal(r.t, texts);
  assert.equal(r.b.map((b: Buffer | null) => (b ? [...b] : null)), [[0, 1, 2, 255], [], null]);
  assert.equal(r.i8, ['0', '1796292390267', String(2 ** 53 - 1), '-5', null]);
  assert.equal(r.i4, small);
  assert.is(r.empty, 0);
});

test('an element type other than the parameter\'s is refused, not misread', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const err = await client.query('SELECT $1::bigint[] AS x', [binaryArray('text', ['1'])]).then(() => null, (e: Error) => e);
  assert.ok(err, 'the server checks the element type');
});

test.run();
