// Helpers for engine tests: typed plans, a migrated SQLite file in a temp dir, and runs enqueued
// through the journal's real write path.
import { messageFingerprint } from '../../../runtime/journal/message-fingerprint.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Api, Auth, Expr, Plan, Step, Workflow } from '../../../plan/plan.types.ts';
import { JournalWriter } from '../../../runtime/journal/journal-writer.ts';
import { openDatabase, type Database } from '../../../runtime/journal/open-database.ts';

export const src = (line: number) => `flows/admit.hdc:${line}:3-${line}:40`;

export function plan(parts: { apis?: Api[]; auths?: Auth[]; workflows: Workflow[] }): Plan {
  return {
    planVersion: 1,
    compiler: 'hdc test',
    hash: 'sha256:' + '0'.repeat(64),
    sources: [],
    auths: parts.auths ?? [],
    apis: parts.apis ?? [],
    senders: [],
    workflows: parts.workflows,
    launches: [],
    tests: [],
  };
}

export function api(name: string, kind: Api['kind'], baseUrl: string, extra: Partial<Api> = {}): Api {
  return { name, kind, baseUrl, timeoutMs: 2000, retry: { attempts: 2, backoffMs: 5 }, src: src(1), ...extra };
}

export function workflow(name: string, steps: Step[], extra: Partial<Workflow> = {}): Workflow {
  return { name, inputs: [], steps, src: src(2), ...extra };
}

// Expression shorthands.
export const lit = (v: string | number | boolean | null): Expr => ({ lit: v });
export const ref = (name: string, ...path: Array<string | number>): Expr => (path.length ? { ref: name, path } : { ref: name });
export const tpl = (...parts: Array<string | Expr>): Expr => ({ template: parts });
export const obj = (entries: Record<string, Expr>): Expr => ({ object: Object.entries(entries).map(([key, value]) => ({ key, value })) });
export const op = (o: NonNullable<Expr['op']>, ...args: Expr[]): Expr => ({ op: o, args });

export interface TempDb {
  db: Database;
  file: string;
  journal: JournalWriter;
  dispose(): void;
}

const dbOf = new WeakMap<JournalWriter, Database>();

/** A journal writer whose enqueues take the write lock up front. */
export function journalFor(db: Database): JournalWriter {
  const journal = new JournalWriter(db);
  dbOf.set(journal, db);
  return journal;
}

export function tempDb(): TempDb {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-engine-'));
  const file = join(dir, 'hdc.sqlite');
  const db = openDatabase(file);
  return {
    db,
    file,
    journal: journalFor(db),
    dispose: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let control = 0;
/** Journals one message and its runs; returns the run ids. */
export function enqueue(
  journal: JournalWriter,
  runs: Array<{ workflow: string; fields?: Record<string, unknown>; orderKey?: string | null }>,
  opts: { sender?: string; raw?: string; receivedAt?: number } = {},
): number[] {
  const controlId = `MSG${++control}-${process.pid}-${Date.now()}`;
  const sender = opts.sender ?? 'lab';
  const receivedAt = opts.receivedAt ?? Date.now();
  const raw = opts.raw ?? `MSH|^~\\&|LAB|LABFAC|HDC|HOSP|20240315103000||ADT^A01^ADT_A01|${controlId}|P|2.5.1\rPID|1||12345^^^ACME^MR||Doe^Jane\r`;
  // BEGIN IMMEDIATE: an engine's writer thread may be committing at the same time, and a deferred
  // transaction that reads before it writes would fail with SQLITE_BUSY instead of waiting.
  const db = dbOf.get(journal);
  const write = (entries: Parameters<JournalWriter['writeBatch']>[0]) => (db ? db.transaction(() => journal.writeBatch(entries)).immediate() : journal.writeBatch(entries));
  const [res] = write([
    {
      sender,
      controlId,
      sendingSystem: 'LAB|LABFAC',
      contentHash: messageFingerprint(raw),
      onReuse: 'accept',
      messageType: 'ADT',
      trigger: 'A01',
      receivedAt,
      raw: Buffer.from(raw, 'utf8'),
      charset: 'UTF-8',
      status: 'accepted',
      ack: 'MSA|AA',
      runs: runs.map((r) => ({
        workflow: r.workflow,
        orderKey: r.orderKey ?? null,
        input: JSON.stringify({ fields: r.fields ?? {}, message: { type: 'ADT', trigger: 'A01', controlId, version: '2.5.1', receivedAt, sender } }),
      })),
    },
  ]);
  if (res.kind !== 'stored') throw new Error('duplicate');
  return res.runIds;
}
