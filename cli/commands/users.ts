// `hdc users`: manages the embedded users table that `login users` checks (scrypt password
// hashes, claims as JSON). Passwords are read from the terminal without echo or from standard
// input, never from the command line (where `ps` and shell history would show them).
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { defineCommand, UsageError } from '../command.ts';
import { hashPassword } from '../../runtime/platform/login/password-hash.ts';
import { UsersTable } from '../../runtime/platform/login/users-table.ts';
import { databasePath, openDatabase } from '../../runtime/journal/open-database.ts';
import { sqliteSql, type SharedSql } from '../../runtime/store/shared-sql.ts';

const usage = `Usage:
  hdc users add NAME [--claim KEY=VALUE]… [--claims JSON] [--password-stdin]
  hdc users passwd NAME [--password-stdin]
  hdc users claims NAME (--claim KEY=VALUE… | --claims JSON)
  hdc users list [--json]
  hdc users remove NAME

Manages the users that \`login users\` accepts on a launch's or the dashboard's login form. The
table lives in the runtime's SQLite database, or in the PostgreSQL store that several runtimes share.
  --data DIR          data directory, default .hdc-data [HDC_DATA]
  --store URL         postgres://… : the users of the runtimes sharing that store [HDC_STORE]
  --claim KEY=VALUE   a claim (what \`require\` and \`map\` read as claims.KEY); repeat a key for a list
  --claims JSON       all claims as one JSON object, e.g. '{"email":"dr@acme.org","groups":["clinicians"]}'
  --password-stdin    read the password from standard input (first line) instead of the terminal

The password is asked twice on a terminal, without echo. Hashes are scrypt (N=2^15, r=8, p=1).`;

function parseClaims(pairs: string[] | undefined, json: string | undefined): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (json !== undefined) {
    const parsed = JSON.parse(json) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('--claims must be a JSON object');
    Object.assign(claims, parsed);
  }
  for (const p of pairs ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`--claim: expected KEY=VALUE, got "${p}"`);
    const k = p.slice(0, eq);
    const v = p.slice(eq + 1);
    const had = claims[k];
    claims[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return claims;
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

async function askHidden(prompt: string): Promise<string> {
  let muted = false;
  const out = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: out, terminal: true });
  try {
    return await new Promise<string>((resolveAnswer) => {
      rl.question(prompt, (answer) => resolveAnswer(answer));
      muted = true;
    });
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) return readStdinLine();
  const first = await askHidden('Password: ');
  const second = await askHidden('Again: ');
  if (first !== second) throw new Error('the passwords differ');
  return first;
}

/** The users table: in the PostgreSQL store when given one, else in the data directory's SQLite file. */
async function openUsersStorage(storeUrl: string | undefined, data: string | undefined): Promise<{ sql: SharedSql; close(): Promise<void> }> {
  if (storeUrl) {
    if (!/^postgres(ql)?:\/\//.test(storeUrl)) throw new UsageError('--store: expected a postgres:// URL');
    const { openSharedSql } = await import('../../runtime/store/postgres/open-shared-sql.ts');
    return openSharedSql(storeUrl);
  }
  const db = openDatabase(databasePath(resolve(process.cwd(), data ?? (process.env.HDC_DATA || '.hdc-data'))));
  return { sql: sqliteSql(db), close: async () => void db.close() };
}

export default defineCommand({
  name: 'users',
  usage,
  options: {
    data: { type: 'string' },
    store: { type: 'string' },
    claim: { type: 'string', multiple: true },
    claims: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }) {
    const [action, name, ...extra] = positionals;
    const needsName = action === 'add' || action === 'passwd' || action === 'remove' || action === 'claims';
    if (!action || !['add', 'passwd', 'claims', 'list', 'remove'].includes(action) || (needsName && !name) || extra.length || (!needsName && name)) {
      console.error(usage);
      return 2;
    }
    let storage: Awaited<ReturnType<typeof openUsersStorage>>;
    try {
      storage = await openUsersStorage(values.store ?? (process.env.HDC_STORE || undefined), values.data);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      console.error(`hdc users: ${(err as Error).message}`);
      return 1;
    }
    try {
      const table = new UsersTable(storage.sql);
      switch (action) {
        case 'list': {
          const rows = await table.list();
          if (values.json) console.log(JSON.stringify(rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt).toISOString(), updatedAt: new Date(r.updatedAt).toISOString() })), null, 2));
          else if (!rows.length) console.log('no users');
          else for (const r of rows) console.log(`${r.username}\t${JSON.stringify(r.claims)}`);
          return 0;
        }
        case 'remove':
          if (!await table.remove(name!)) {
            console.error(`hdc users: no user ${name}`);
            return 1;
          }
          console.error(`removed ${name}`);
          return 0;
        case 'claims': {
          if (!values.claim && values.claims === undefined) {
            console.error('hdc users claims: give --claim or --claims');
            return 2;
          }
          if (!await table.setClaims(name!, parseClaims(values.claim, values.claims))) {
            console.error(`hdc users: no user ${name}`);
            return 1;
          }
          console.error(`claims of ${name} replaced`);
          return 0;
        }
        case 'add':
        case 'passwd': {
          const claims = action === 'add' ? parseClaims(values.claim, values.claims) : {};
          if (action === 'add' && await table.credentials(name!)) {
            console.error(`hdc users: ${name} exists (use \`hdc users passwd ${name}\`)`);
            return 1;
          }
          if (action === 'passwd' && !await table.credentials(name!)) {
            console.error(`hdc users: no user ${name}`);
            return 1;
          }
          const password = await readPassword(values['password-stdin'] ?? false);
          if (password.length < 8) {
            console.error('hdc users: the password must have at least 8 characters');
            return 1;
          }
          const hash = await hashPassword(password);
          if (action === 'add') await table.add(name!, hash, claims);
          else await table.setPassword(name!, hash);
          console.error(action === 'add' ? `added ${name}` : `password of ${name} changed`);
          return 0;
        }
      }
      return 2;
    } catch (err) {
      console.error(`hdc users: ${(err as Error).message}`);
      return 1;
    } finally {
      await storage.close();
    }
  },
});
