// Resolves every env()/file() reference in a plan at start-up, so a missing secret stops the
// runtime before it listens and names the .hdc line that needs it. The result is the same plan
// with each reference replaced by its string value (Value admits plain strings).
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { EnvRef, FileRef, Plan, Value } from '../../../plan/plan.types.ts';
import { srcLine } from './source-location.ts';
import { checkReferencedUrls } from './url-policy.ts';

export interface ResolveContext {
  env: Record<string, string | undefined>;
  /** Told about http URLs on loopback that came from the environment (allowed for development). */
  warn?: (message: string) => void;
  /** The plan's working directory: relative .hdc paths in `src` and `base` are relative to it. */
  workDir: string;
}

export class UnresolvedValuesError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'UnresolvedValuesError';
  }
}

const ENV_KEYS = new Set(['env', 'default', 'src']);
const FILE_KEYS = new Set(['file', 'base', 'src']);

function hasOnlyKeys(obj: object, allowed: Set<string>): boolean {
  return Object.keys(obj).every((k) => allowed.has(k));
}

export function isEnvRef(v: unknown): v is EnvRef {
  return typeof v === 'object' && v !== null && typeof (v as EnvRef).env === 'string' &&
    typeof (v as EnvRef).src === 'string' && hasOnlyKeys(v, ENV_KEYS);
}

export function isFileRef(v: unknown): v is FileRef {
  if (typeof v !== 'object' || v === null) return false;
  const f = (v as FileRef).file;
  return typeof (v as FileRef).src === 'string' && hasOnlyKeys(v, FILE_KEYS) &&
    (typeof f === 'string' || isEnvRef(f) || isFileRef(f));
}

/** How a reference reads in .hdc source, for messages: env("X"), file("p"), file(env("X")). */
export function describeRef(v: Value): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (isEnvRef(v)) return `env(${JSON.stringify(v.env)})`;
  return `file(${describeRef(v.file)})`;
}

/** Resolves one Value; throws an Error whose message starts with FILE:LINE. */
export function resolveValue(v: Value, ctx: ResolveContext): string {
  if (typeof v === 'string') return v;
  if (isEnvRef(v)) {
    // An empty variable counts as unset: an empty secret is a deployment mistake, not a value.
    const got = ctx.env[v.env];
    if (got !== undefined && got !== '') return got;
    if (v.default !== undefined) return v.default;
    throw new Error(`${srcLine(v.src)}: env(${JSON.stringify(v.env)}) is not set`);
  }
  const name = resolveValue(v.file, ctx);
  const hdcFile = /^(.*):\d+:\d+-\d+:\d+$/.exec(v.src)?.[1];
  const baseDir = v.base !== undefined ? resolve(ctx.workDir, v.base)
    : hdcFile ? dirname(resolve(ctx.workDir, hdcFile)) : ctx.workDir;
  const full = isAbsolute(name) ? name : resolve(baseDir, name);
  try {
    return readFileSync(full, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new Error(`${srcLine(v.src)}: ${describeRef(v)} cannot be read (${code} ${full})`);
  }
}

/**
 * Returns a copy of the plan with every reference resolved, or throws UnresolvedValuesError listing
 * each missing one, and each URL from the environment that uses http to a host other than loopback. Test cases are left as they are: they run under `hdc test`, not `hdc run`.
 */
export function resolvePlanValues(plan: Plan, ctx: ResolveContext): Plan {
  const problems: string[] = [];
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    if (isEnvRef(node) || isFileRef(node)) {
      try {
        return resolveValue(node, ctx);
      } catch (err) {
        problems.push((err as Error).message);
        return '';
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v);
    return out;
  };
  const { tests, ...rest } = plan;
  const resolved = { ...(walk(rest) as Omit<Plan, 'tests'>), tests } as Plan;
  if (!problems.length) {
    const urls = checkReferencedUrls(plan, resolved);
    problems.push(...urls.problems);
    for (const w of urls.warnings) ctx.warn?.(w);
  }
  if (problems.length) throw new UnresolvedValuesError([...new Set(problems)]);
  return resolved;
}
