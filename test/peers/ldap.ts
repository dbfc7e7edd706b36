// A real LDAP directory for the LDAP login path: Debian's OpenLDAP `slapd`, configured from a
// temporary slapd.conf, loaded with `slapadd`, listening on a loopback port.
//
// Needs the Debian packages: slapd ldap-utils   (apt-get install -y slapd ldap-utils; .ci/run
// installs them). When slapd is missing, `ldapAvailable()` is false and tests should say so.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LdapUser {
  username: string;
  password: string;
  /** Common name (default: the username). */
  cn?: string;
  givenName?: string;
  /** Surname (default: the username). */
  sn?: string;
  mail?: string;
  /** Group names; each becomes `cn=<name>,ou=groups,<baseDn>` (groupOfNames). */
  groups?: string[];
}

export interface LdapServerOptions {
  users: LdapUser[];
  /** Default `dc=hdc,dc=test`. */
  baseDn?: string;
}

export interface LdapServer {
  /** e.g. `ldap://127.0.0.1:40131` */
  url: string;
  baseDn: string;
  /** `ou=people,<baseDn>`: the search base for users. */
  peopleDn: string;
  groupsDn: string;
  /** The directory manager, for search-then-bind logins. */
  adminDn: string;
  adminPassword: string;
  /** `uid=<username>,ou=people,<baseDn>` */
  bindDnFor(username: string): string;
  close(): Promise<void>;
}

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin'];
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

/** True when slapd and slapadd are installed (Debian packages slapd + ldap-utils). */
export function ldapAvailable(): boolean {
  return findBinary('slapd') !== undefined && findBinary('slapadd') !== undefined;
}

/** `{SSHA}` as slappasswd makes it: base64(sha1(password + salt) + salt). */
function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** LDIF values that are not plain ASCII, or start with a space/colon/<, are base64 encoded. */
function attr(name: string, value: string): string {
  return /^[\x20-\x7e]*$/.test(value) && !/^[ :<]/.test(value) && !value.endsWith(' ')
    ? `${name}: ${value}`
    : `${name}:: ${Buffer.from(value, 'utf8').toString('base64')}`;
}

function ldif(baseDn: string, users: LdapUser[]): string {
  const dc = /^dc=([^,]+)/.exec(baseDn)?.[1] ?? 'test';
  const blocks: string[][] = [
    [`dn: ${baseDn}`, 'objectClass: dcObject', 'objectClass: organization', `dc: ${dc}`, `o: ${dc}`],
    [`dn: ou=people,${baseDn}`, 'objectClass: organizationalUnit', 'ou: people'],
    [`dn: ou=groups,${baseDn}`, 'objectClass: organizationalUnit', 'ou: groups'],
  ];
  const groups = new Map<string, string[]>();
  for (const u of users) {
    const dn = `uid=${u.username},ou=people,${baseDn}`;
    const lines = [`dn: ${dn}`, 'objectClass: inetOrgPerson', attr('uid', u.username), attr('cn', u.cn ?? u.username), attr('sn', u.sn ?? u.username)];
    if (u.givenName) lines.push(attr('givenName', u.givenName));
    if (u.mail) lines.push(attr('mail', u.mail));
    lines.push(`userPassword: ${ssha(u.password)}`);
    blocks.push(lines);
    for (const g of u.groups ?? []) groups.set(g, [...(groups.get(g) ?? []), dn]);
  }
  for (const [g, members] of groups) {
    blocks.push([`dn: cn=${g},ou=groups,${baseDn}`, 'objectClass: groupOfNames', attr('cn', g), ...members.map((m) => `member: ${m}`)]);
  }
  return blocks.map((b) => b.join('\n')).join('\n\n') + '\n';
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startLdap(opts: LdapServerOptions): Promise<LdapServer> {
  const slapd = findBinary('slapd');
  const slapadd = findBinary('slapadd');
  if (!slapd || !slapadd) throw new Error('slapd is not installed (Debian packages: slapd ldap-utils)');
  const baseDn = opts.baseDn ?? 'dc=hdc,dc=test';
  const adminDn = `cn=admin,${baseDn}`;
  const adminPassword = randomBytes(12).toString('base64url');
  const dir = mkdtempSync(join(tmpdir(), 'hdc-ldap-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      'include /etc/ldap/schema/nis.schema',
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${join(dir, 'slapd.pid')}`,
      `argsfile ${join(dir, 'slapd.args')}`,
      'database mdb',
      'maxsize 16777216',
      `suffix "${baseDn}"`,
      `rootdn "${adminDn}"`,
      `rootpw ${ssha(adminPassword)}`,
      `directory ${data}`,
      'access to attrs=userPassword by self write by anonymous auth by * none',
      'access to * by users read by anonymous auth',
      '',
    ].join('\n'),
  );
  const ldifFile = join(dir, 'seed.ldif');
  writeFileSync(ldifFile, ldif(baseDn, opts.users));
  const add = spawnSync(slapadd, ['-f', conf, '-l', ldifFile], { encoding: 'utf8' });
  if (add.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`slapadd failed: ${add.stderr}`);
  }

  // slapd cannot take port 0: pick a free port and retry if another process takes it first.
  let child: ChildProcess | undefined;
  let port = 0;
  let stderr = '';
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    const proc = spawn(slapd, ['-f', conf, '-h', `ldap://127.0.0.1:${port}/`, '-d', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.on('data', (d) => (stderr += d));
    let exited = false;
    proc.once('exit', () => (exited = true));
    const deadline = Date.now() + 5000;
    while (!exited && Date.now() < deadline && !(await canConnect(port))) {
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!exited && (await canConnect(port))) child = proc;
    else if (!exited) proc.kill('SIGKILL');
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`slapd did not start: ${stderr.slice(-2000)}`);
  }
  const proc = child;

  return {
    url: `ldap://127.0.0.1:${port}`,
    baseDn,
    peopleDn: `ou=people,${baseDn}`,
    groupsDn: `ou=groups,${baseDn}`,
    adminDn,
    adminPassword,
    bindDnFor: (username) => `uid=${username},ou=people,${baseDn}`,
    close: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000).unref())]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
