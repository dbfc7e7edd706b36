// The tables every runtime of a cluster shares (SMART launch sessions, the login form's users),
// one contract run on both stores: the SQLite file and a real PostgreSQL database. Then the
// `hdc users` command against the PostgreSQL store, as an operator of several runtimes runs it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from './pg-test-db.ts';
import { skipBecause } from '../../harness/skip.ts';
import { openDatabase } from '../../../runtime/journal/open-database.ts';
import { coreMigrations } from '../../../runtime/journal/core-migrations.ts';
import { sqliteSql, type SharedSql } from '../../../runtime/store/shared-sql.ts';
import { openSharedSql } from '../../../runtime/store/postgres/open-shared-sql.ts';
import { migratePostgres } from '../../../runtime/store/postgres/pg-migrate.ts';
import { createPool } from '../../../runtime/store/postgres/pg-pool.ts';
import { sharedTables } from '../../../runtime/journal/migrations.ts';
import { LaunchSessions, launchSessionMigrations } from '../../../modules/smart/launch-sessions.ts';
import { SessionCipher } from '../../../modules/smart/session-cipher.ts';
import { UsersTable, usersLogin } from '../../../runtime/platform/login/users-table.ts';
import { hashPassword } from '../../../runtime/platform/login/password-hash.ts';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hdc-shared-'));
let pgDb: TestDatabase | null = null;
const closers: Array<() => Promise<void> | void> = [];

test.before(async () => {
  pgDb = await createTestDatabase('shared');
});
test.after(async () => {
  for (const c of closers.reverse()) await c();
  await pgDb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** The shared tables on each store, with the SMART module's migrations applied. */
async function stores(): Promise<Array<{ name: string; sql: SharedSql; raw(text: string, params?: unknown[]): Promise<unknown[]> }>> {
  const db = openDatabase(join(dir, `hdc-${closers.length}.sqlite`), { migrations: [...coreMigrations, ...launchSessionMigrations] });
  closers.push(() => void db.close());
  const out = [{ name: 'sqlite', sql: sqliteSql(db), raw: async (text: string, params: unknown[] = []) => db.prepare(text.replace(/\$\d+/g, '?')).all(...params) }];
  if (!pgDb) {
    skipBecause('no PostgreSQL server at 127.0.0.1:5432: the shared tables were checked on SQLite only');
    return out;
  }
  const shared = await openSharedSql(pgDb.url);
  closers.push(() => shared.close());
  const pool = createPool({ url: pgDb.url, max: 1 });
  closers.push(() => pool.end());
  await migratePostgres(pool, sharedTables(launchSessionMigrations));
  out.push({ name: 'postgres', sql: shared.sql, raw: async (text, params = []) => (await pool.query(text, params)).rows });
  return out;
}

test('launch sessions: state consumed once, expiry, ids stored hashed, secrets sealed and wiped (SQLite and PostgreSQL)', async () => {
  for (const store of await stores()) {
    let now = 1000;
    const cipher = new SessionCipher('session-key');
    const s = new LaunchSessions(store.sql, () => now, () => cipher);
    const id = await s.create({ launch: 'x', kind: 'ehr', iss: 'https://e', phase: 'authorize', scope: 'launch', ttlMs: 100 });
    await s.authorizing((await s.get(id))!, 'st', 'verifier-secret');
    const row = (await s.get(id))!;
    assert.is(row.phase, 'authorize', store.name);
    assert.is(row.pkceVerifier, 'verifier-secret', store.name);
    // The cookie's value is not what the table stores; the verifier is sealed.
    assert.equal(await store.raw('SELECT id_hash FROM smart_launch_sessions WHERE id_hash = $1', [id]), [], store.name);
    const [stored] = (await store.raw('SELECT pkce_verifier FROM smart_launch_sessions WHERE id_hash = $1', [row.idHash])) as Array<{ pkce_verifier: string }>;
    assert.not.match(stored!.pkce_verifier, /verifier-secret/);
    // A runtime with another key cannot open it; one with the same key (another runtime of the cluster) can.
    assert.is((await new LaunchSessions(store.sql, () => now, () => new SessionCipher('other')).get(id))!.pkceVerifier, null);
    assert.is((await new LaunchSessions(store.sql, () => now, () => new SessionCipher('session-key')).get(id))!.pkceVerifier, 'verifier-secret');
    // Single use, also when two runtimes race for the same callback.
    const race = await Promise.all([s.consumeState(row.idHash, 'st', 'done'), s.consumeState(row.idHash, 'st', 'done'), s.consumeState(row.idHash, 'other', 'done')]);
    assert.equal(race.filter(Boolean).length, 1, store.name);
    assert.is((await s.get(id))!.pkceVerifier, null);
    // A user waiting at the EHR: claims sealed; wiped when the state expires (abandoned launch).
    const late = await s.create({ launch: 'x', kind: 'ehr', iss: 'https://e', phase: 'login', scope: 'launch', ttlMs: 100 });
    assert.ok(await s.loggedIn((await s.get(late))!, { email: 'dr@acme.org' }));
    assert.not.ok(await s.loggedIn((await s.get(late))!, { email: 'dr@acme.org' }), 'a login completes once');
    await s.authorizing((await s.get(late))!, 'st2', 'v2');
    assert.equal((await s.get(late))!.user, { email: 'dr@acme.org' });
    assert.not.ok(JSON.stringify(await store.raw('SELECT * FROM smart_launch_sessions')).includes('acme.org'));
    now = 1200;
    assert.ok(s.isExpired((await s.get(late))!));
    assert.not.ok(await s.consumeState((await s.get(late))!.idHash, 'st2', 'done'));
    assert.equal(await s.purge(1000), { wiped: 1, deleted: 0 }, store.name);
    const [wiped] = await store.raw('SELECT user_claims, pkce_verifier, state FROM smart_launch_sessions WHERE id_hash = $1', [(await s.get(late))!.idHash]);
    assert.equal(wiped, { user_claims: null, pkce_verifier: null, state: null });
    assert.equal(await s.purge(0), { wiped: 0, deleted: 2 }, store.name);
  }
});

test('users: add once, password and claims changes, removal; the login form checks them (SQLite and PostgreSQL)', async () => {
  for (const store of await stores()) {
    const users = new UsersTable(store.sql);
    assert.ok(await users.add('dr.who', await hashPassword('correct horse'), { groups: ['clinicians'] }, 5));
    assert.not.ok(await users.add('dr.who', await hashPassword('other one'), {}), `${store.name}: a second add of the same name changes nothing`);
    const login = usersLogin(users);
    assert.equal(await login.verify('dr.who', 'correct horse'), { groups: ['clinicians'], username: 'dr.who', sub: 'dr.who' });
    assert.is(await login.verify('dr.who', 'other one'), null);
    assert.ok(await users.setPassword('dr.who', await hashPassword('new password'), 6));
    assert.ok(await users.setClaims('dr.who', { email: 'who@acme.org' }, 7));
    assert.equal(await users.list(), [{ username: 'dr.who', claims: { email: 'who@acme.org' }, createdAt: 5, updatedAt: 7 }], store.name);
    assert.ok(await login.verify('dr.who', 'new password'));
    assert.ok(await users.remove('dr.who'));
    assert.not.ok(await users.remove('dr.who'));
    assert.is(await users.credentials('dr.who'), undefined);
  }
});

function hdc(args: string[], stdin: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [repoRoot + 'bin/hdc.js', ...args], { cwd: dir, env: { ...process.env, HDC_DEV: '1', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

test('hdc users --store: the users of every runtime sharing the PostgreSQL store, on a database no runtime opened yet', async () => {
  const fresh = await createTestDatabase('users_cli');
  if (!fresh) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  closers.push(() => fresh.drop());
  const add = await hdc(['users', 'add', 'nurse.joy', '--claim', 'groups=ward-7', '--password-stdin', '--store', fresh.url], 'pokemon-center\n');
  assert.is(add.code, 0, add.stderr);
  const list = await hdc(['users', 'list', '--json'], '', { HDC_STORE: fresh.url });
  assert.is(list.code, 0, list.stderr);
  assert.equal((JSON.parse(list.stdout) as Array<{ username: string; claims: unknown }>).map((u) => [u.username, u.claims]), [['nurse.joy', { groups: 'ward-7' }]]);
  // What a runtime on that store checks the login form against.
  const shared = await openSharedSql(fresh.url);
  closers.push(() => shared.close());
  assert.ok(await usersLogin(new UsersTable(shared.sql)).verify('nurse.joy', 'pokemon-center'));
  // The local SQLite file knows nothing of them.
  const local = await hdc(['users', 'list'], '', { HDC_DATA: join(dir, 'local') });
  assert.is(local.stdout.trim(), 'no users');
  const bad = await hdc(['users', 'list', '--store', 'mysql://x'], '');
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--store: expected a postgres:\/\/ URL/);
});

test.run();
