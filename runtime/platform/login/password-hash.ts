// Password hashes for the embedded users table and PostgreSQL user queries: scrypt (node:crypto)
// in a self-describing PHC-style string, `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64, no
// padding), so the cost can be raised later without breaking stored hashes.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));

export interface ScryptCost {
  /** log2 of N. */
  ln: number;
  r: number;
  p: number;
}

export const DEFAULT_COST: ScryptCost = { ln: 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

function maxmem(c: ScryptCost): number {
  return 256 * 2 ** c.ln * c.r + 1024 * 1024;
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N: 2 ** cost.ln, r: cost.r, p: cost.p, maxmem: maxmem(cost) });
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
}

const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export function isPasswordHash(text: string): boolean {
  return FORMAT.test(text);
}

/** False for a wrong password and for a string that is not a hash this module wrote. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (!m) return false;
  const cost = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (cost.ln < 10 || cost.ln > 20) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await scrypt(password.normalize('NFC'), Buffer.from(m[4]!, 'base64'), expected.length, { N: 2 ** cost.ln, r: cost.r, p: cost.p, maxmem: maxmem(cost) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash to verify against when the user does not exist, so timing does not tell who exists. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}
