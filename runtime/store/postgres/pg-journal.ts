// The journal in PostgreSQL, shared by every runtime of a cluster. The durable-before-ACK rule
// holds as with SQLite: record() resolves only after COMMIT returned on a connection with
// synchronous_commit on, and entries from concurrent requests wait while the previous batch
// commits and then go together (group commit: one statement and one WAL flush per batch whatever
// its size, the rows travelling as arrays).
//
// Resends are recognised by the unique resend key (sender, control ID, fingerprint), not by a read
// before the write: when two runtimes receive the same message at the same moment, the second
// INSERT waits on the first one's uncommitted row, inserts nothing once it committed, and reads
// that row's ACK, so both answer once and the same way. Rows are inserted in key order so that two
// batches with overlapping keys lock them in the same order and never deadlock.
import type pg from 'pg';
import type { JournalEntry, JournalResult } from '../../journal/journal-writer.ts';
import { takeBatch, type JournalStats, type JournalStore, type JournalWaiter as Waiter } from '../journal-store.ts';
import { JournalCommits } from '../journal-commits.ts';
import type { Logger } from '../../platform/log/logger.ts';
import { pgTransaction } from './pg-pool.ts';
import { prepared } from './pg-prepared.ts';
import { binaryArray, type Element, type Value } from './pg-binary-array.ts';

/** Where newly queued runs are announced (LISTEN in pg-engine.ts wakes the other runtimes). */
export const RUNS_CHANNEL = 'hdc_runs';
/** Advisory lock of the retention purge: one runtime at a time. */
export const PURGE_LOCK = 0x6864630002;
/** The class of the per-order-key advisory locks (two-int form; "hd" in ASCII). */
const ORDER_KEY_LOCK_CLASS = 0x6864;

/** A batch's messages and their runs (see writeBatch). */
const INSERT_BATCH = prepared('hdc_journal_batch', `WITH i AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bytea[], $9::text[], $10::text[])
    WITH ORDINALITY AS i(sender, control_id, sending_system, content_hash, message_type, trigger, received_at, raw, charset, ack, ord)),
m AS (
  INSERT INTO messages (sender, control_id, sending_system, content_hash, message_type, trigger, received_at, raw, charset, status, ack, reuse_of)
  SELECT i.sender, i.control_id, i.sending_system, i.content_hash, i.message_type, i.trigger, i.received_at, i.raw, i.charset, 'accepted', i.ack,
    (SELECT o.id FROM messages o WHERE o.sender = i.sender AND o.control_id = i.control_id
       AND o.sending_system = i.sending_system AND o.content_hash <> i.content_hash LIMIT 1)
  FROM i ORDER BY i.ord
  ON CONFLICT ON CONSTRAINT messages_resend_key DO NOTHING
  RETURNING id, sender, control_id, content_hash, reuse_of),
q AS (
  SELECT * FROM unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::bigint[], $19::text[])
    WITH ORDINALITY AS q(sender, control_id, content_hash, workflow, workflow_hash, order_key, input, at, home, ord)),
r AS (
  INSERT INTO workflow_runs (message_id, sender, workflow, workflow_hash, order_key, status, input, attempts, next_attempt_at, created_at, updated_at, home_runtime)
  SELECT m.id, q.sender, q.workflow, q.workflow_hash, q.order_key, 'queued', q.input, 0, q.at, q.at, q.at, q.home
  FROM q JOIN m ON m.sender = q.sender AND m.control_id = q.control_id AND m.content_hash = q.content_hash
  ORDER BY q.ord
  RETURNING id, message_id)
SELECT 'm' AS t, id, sender, control_id, content_hash, reuse_of, NULL::bigint AS message_id FROM m
UNION ALL SELECT 'r', id, NULL, NULL, NULL, NULL, message_id FROM r`);

/** The transaction locks of a batch's order keys, in one order whatever the batch. */
const LOCK_ORDER_KEYS = prepared('hdc_journal_order_keys', `SELECT pg_advisory_xact_lock(${ORDER_KEY_LOCK_CLASS}, k) FROM (
  SELECT DISTINCT hashtext(w || chr(31) || o) AS k FROM unnest($1::text[], $2::text[]) AS t(w, o) ORDER BY 1) s`);

/** Wakes the engines listening on RUNS_CHANNEL. */
const NOTIFY = prepared('hdc_journal_notify', `SELECT pg_notify('${RUNS_CHANNEL}', '')`);

export interface PgJournalOptions {
  pool: pg.Pool;
  /** The definition hash of each workflow of this runtime's plan (rolling upgrades, see pg-schema.ts). */
  workflowHashes: ReadonlyMap<string, string>;
  /** Recorded as the home of runs whose sender waits for their outcome (pg-run-store.ts, claim). */
  runtimeId?: string;
  maxBatch?: number;
  /**
   * Batches committing at once (default 2): while one waits for its WAL flush the next one runs,
   * and PostgreSQL flushes concurrent commits together.
   */
  maxInFlight?: number;
  /**
   * Where the wake-up NOTIFY for other runtimes is sent: a pool with synchronous_commit off, so that
   * the notifying transaction (which holds PostgreSQL's notification lock until it commits) does
   * not wait for a flush. Default: the journal's pool.
   */
  notifyPool?: pg.Pool;
  log?: Logger;
}

const keyOf = (e: { sender: string; controlId: string; contentHash: string }) => `${e.sender}\u0000${e.controlId}\u0000${e.contentHash}`;

export class PgJournal implements JournalStore {
  private readonly queue: Waiter[] = [];
  private inFlight = 0;
  private notifying = false;
  private notifyAgain = false;
  private scheduled = false;
  private closed = false;
  private idle: (() => void)[] = [];
  private up = true;
  private probe?: NodeJS.Timeout;
  readonly stats: JournalStats = { batches: 0, entries: 0, largestBatch: 0 };
  readonly commits = new JournalCommits();
  readonly thread = undefined;
  private readonly pool: pg.Pool;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(private readonly opts: PgJournalOptions) {
    this.pool = opts.pool;
    this.maxBatch = opts.maxBatch ?? 1000;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
  }

  get healthy(): boolean {
    return this.up && !this.closed;
  }

  record(entries: JournalEntry[]): Promise<JournalResult[]> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ entries, resolve, reject });
      this.schedule();
    });
  }

  async updateAck(messageId: number, ack: string, status: string): Promise<void> {
    await this.pool.query('UPDATE messages SET ack = $1, status = $2 WHERE id = $3', [ack, status, messageId]);
  }

  /** Runs on one runtime at a time (an advisory lock); the others return 0. */
  async purgeContent(cutoff: number, now = Date.now()): Promise<number> {
    return pgTransaction(this.pool, async (client) => {
      const got = (await client.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS got', [PURGE_LOCK])).rows[0]!.got;
      let total = 0;
      if (got) {
        total += (await client.query('UPDATE messages SET raw = NULL, content_purged_at = $1 WHERE received_at < $2 AND content_purged_at IS NULL', [now, cutoff])).rowCount ?? 0;
        total += (await client.query(`UPDATE workflow_runs SET input = NULL WHERE created_at < $1 AND input IS NOT NULL AND status IN ('done','rejected')`, [cutoff])).rowCount ?? 0;
      }
      return total;
    });
  }

  /**
   * Wakes the other runtimes' engines (LISTEN in pg-engine.ts) after runs were committed; outside the
   * batch's transaction, at most one at a time (a burst of batches coalesces into one more).
   */
  private announce(): void {
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = true;
    (this.opts.notifyPool ?? this.pool).query(NOTIFY([]))
      .catch(() => {}) // the engines poll as well
      .finally(() => {
        this.notifying = false;
        if (this.notifyAgain && !this.closed) {
          this.notifyAgain = false;
          this.announce();
        }
      });
  }

  /**
   * The database is unreachable: /ready says not ready, so a load balancer sends partners
   * elsewhere; a probe every second notices when it answers again (no partner traffic needed).
   */
  private down(): void {
    this.up = false;
    if (this.probe) return;
    this.probe = setInterval(() => {
      this.pool.query('SELECT 1').then(() => {
        this.up = true;
        clearInterval(this.probe);
        this.probe = undefined;
        this.opts.log?.info('PostgreSQL journal reachable again');
      }, () => {});
    }, 1000);
    this.probe.unref();
  }

  private schedule(): void {
    if (this.inFlight >= this.maxInFlight || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.inFlight++;
    const { taken, entries: all } = takeBatch(this.queue, this.maxBatch);
    try {
      const started = performance.now();
      const results = await this.writeBatch(all);
      this.commits.emit('commit', { entries: all.length, seconds: (performance.now() - started) / 1000 });
      if (results.some((r) => r.kind === 'stored' && r.runIds.length)) this.announce();
      this.up = true;
      this.stats.batches++;
      this.stats.entries += all.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, all.length);
      let i = 0;
      for (const w of taken) {
        w.resolve(results.slice(i, i + w.entries.length));
        i += w.entries.length;
      }
    } catch (err) {
      const e = err as Error & { code?: string };
      // Connection-level failures (no SQLSTATE) mean the database is unreachable: not ready.
      if (!e.code || /^(08|57P)/.test(e.code)) this.down();
      this.opts.log?.error({ err: e.message }, 'PostgreSQL journal batch failed');
      for (const w of taken) w.reject(e);
    } finally {
      this.inFlight--;
      if (this.queue.length) this.schedule();
      else if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
    }
  }

  /**
   * The batch's messages and runs in one statement (one round trip, one commit, one WAL flush with
   * synchronous_commit on); resolves after that commit. Resends are then read in a second
   * statement, which sees the rows other runtimes committed meanwhile.
   */
  async writeBatch(entries: JournalEntry[]): Promise<JournalResult[]> {
    const pool = this.pool;
    const results: (JournalResult | undefined)[] = new Array(entries.length);
    // `control_id_reuse reject` (opt-in) reads first: a resend gets its ACK, a reuse is refused unwritten.
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.onReuse !== 'reject') continue;
      const found = await this.resendOrReuse(pool, e);
      if (found) results[i] = found;
    }
    // The first entry of each resend key is inserted; later ones in the batch are its resends.
    const firstOf = new Map<string, number>();
    const toInsert: number[] = [];
    for (let i = 0; i < entries.length; i++) {
      if (results[i]) continue;
      const k = keyOf(entries[i]!);
      if (firstOf.has(k)) continue;
      firstOf.set(k, i);
      toInsert.push(i);
    }
    // Key order: two batches with overlapping keys lock them in the same order (no deadlock).
    toInsert.sort((x, y) => { const kx = keyOf(entries[x]!), ky = keyOf(entries[y]!); return kx < ky ? -1 : kx > ky ? 1 : 0; });
    const col = <E extends Element>(type: E, f: (e: JournalEntry) => Value<E>) => binaryArray(type, toInsert.map((i) => f(entries[i]!)));
    const runs: { sender: string; controlId: string; contentHash: string; workflow: string; hash: string; orderKey: string | null; input: string; at: number; home: string | null }[] = [];
    for (const i of toInsert) {
      const e = entries[i]!;
      for (const r of e.runs) {
        runs.push({ sender: e.sender, controlId: e.controlId, contentHash: e.contentHash, workflow: r.workflow, hash: this.opts.workflowHashes.get(r.workflow) ?? '', orderKey: r.orderKey, input: r.input, at: e.receivedAt, home: e.awaitsOutcome ? (this.opts.runtimeId ?? null) : null });
      }
    }
    const rcol = <E extends Element>(type: E, f: (r: (typeof runs)[number]) => Value<E>) => binaryArray(type, runs.map(f));
    type Row = { t: 'm' | 'r'; id: number; sender: string | null; control_id: string | null; content_hash: string | null; reuse_of: number | null; message_id: number | null };
    // Runs with an order key: run ids must follow commit order per key, or a claimer could see a
    // later run committed while an earlier id is still uncommitted and run it first. A transaction
    // lock per (workflow, key), taken in one order by every batch, makes two batches with a run of
    // the same key insert one after the other's commit.
    const keyed = runs.filter((r) => r.orderKey !== null);
    const insert = async (values: unknown[]) => {
      if (!keyed.length) return pool.query<Row>(INSERT_BATCH(values));
      return pgTransaction(pool, async (client) => {
        await client.query(LOCK_ORDER_KEYS([keyed.map((r) => r.workflow), keyed.map((r) => r.orderKey)]));
        return client.query<Row>(INSERT_BATCH(values));
      });
    };
    const rows = toInsert.length === 0 ? [] : (await insert(
      [col('text', (e) => e.sender), col('text', (e) => e.controlId), col('text', (e) => e.sendingSystem), col('text', (e) => e.contentHash),
        col('text', (e) => e.messageType), col('text', (e) => e.trigger), col('int8', (e) => e.receivedAt), col('bytea', (e) => e.raw),
        col('text', (e) => e.charset), col('text', (e) => e.ack),
        rcol('text', (r) => r.sender), rcol('text', (r) => r.controlId), rcol('text', (r) => r.contentHash), rcol('text', (r) => r.workflow),
        rcol('text', (r) => r.hash), rcol('text', (r) => r.orderKey), rcol('text', (r) => r.input), rcol('int8', (r) => r.at), rcol('text', (r) => r.home)],
    )).rows;
    const inserted = rows.filter((r) => r.t === 'm');
    const stored = new Map<string, { id: number; reuse_of: number | null }>();
    for (const r of inserted) stored.set(keyOf({ sender: r.sender!, controlId: r.control_id!, contentHash: r.content_hash! }), r);
    const runIds = new Map<number, number[]>();
    for (const r of rows.filter((x) => x.t === 'r').sort((x, y) => x.id - y.id)) {
      const list = runIds.get(r.message_id!) ?? [];
      list.push(r.id);
      runIds.set(r.message_id!, list);
    }
    // The statement does not see its own rows: a control ID reused within the batch (rare) gets
    // its reuse_of from a second look.
    const seen = new Set<string>();
    const reusedInBatch = inserted.filter((r) => {
      const k = `${r.sender}\u0000${r.control_id}`;
      if (seen.has(k)) return true;
      seen.add(k);
      return false;
    });
    if (reusedInBatch.length) {
      const fixed = (await pool.query<{ id: number; reuse_of: number | null }>(
        `UPDATE messages m SET reuse_of = (SELECT o.id FROM messages o WHERE o.sender = m.sender AND o.control_id = m.control_id
             AND o.sending_system = m.sending_system AND o.content_hash <> m.content_hash AND o.id < m.id ORDER BY o.id LIMIT 1)
         WHERE m.id = ANY($1::bigint[]) AND m.reuse_of IS NULL RETURNING id, reuse_of`,
        [inserted.map((r) => r.id)],
      )).rows;
      const byId = new Map(fixed.map((r) => [r.id, r.reuse_of]));
      for (const row of stored.values()) if (byId.has(row.id)) row.reuse_of = byId.get(row.id) ?? null;
    }

    // Resends: the rows they repeat (committed by another runtime, an earlier batch or this one).
    const missing = entries.map((_, i) => i).filter((i) => !results[i] && !(firstOf.get(keyOf(entries[i]!)) === i && stored.has(keyOf(entries[i]!))));
    const existing = new Map<string, { id: number; ack: string; status: string }>();
    if (missing.length) {
      const m = missing.map((i) => entries[i]!);
      const found = (await pool.query<{ id: number; sender: string; control_id: string; content_hash: string; ack: string; status: string }>(
        `SELECT m.id, m.sender, m.control_id, m.content_hash, m.ack, m.status
         FROM messages m JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(sender, control_id, content_hash)
           ON m.sender = k.sender AND m.control_id = k.control_id AND m.content_hash = k.content_hash`,
        [m.map((e) => e.sender), m.map((e) => e.controlId), m.map((e) => e.contentHash)],
      )).rows;
      for (const r of found) existing.set(keyOf({ sender: r.sender, controlId: r.control_id, contentHash: r.content_hash }), r);
    }

    return entries.map((e, i) => {
      if (results[i]) return results[i]!;
      const k = keyOf(e);
      const row = stored.get(k);
      if (row && firstOf.get(k) === i) return { kind: 'stored', messageId: row.id, runIds: runIds.get(row.id) ?? [], reuseOf: row.reuse_of ?? null };
      const dup = existing.get(k);
      if (!dup) throw new Error(`journal: message ${e.controlId} from ${e.sender} was neither stored nor found`);
      return { kind: 'duplicate', messageId: dup.id, ack: dup.ack, status: dup.status };
    });
  }

  private async resendOrReuse(client: pg.Pool, e: JournalEntry): Promise<JournalResult | null> {
    const found = (await client.query<{ id: number; ack: string; status: string }>(
      'SELECT id, ack, status FROM messages WHERE sender = $1 AND control_id = $2 AND content_hash = $3', [e.sender, e.controlId, e.contentHash])).rows[0];
    if (found) return { kind: 'duplicate', messageId: found.id, ack: found.ack, status: found.status };
    const reused = (await client.query<{ id: number }>(
      'SELECT id FROM messages WHERE sender = $1 AND control_id = $2 AND sending_system = $3 AND content_hash <> $4 LIMIT 1',
      [e.sender, e.controlId, e.sendingSystem, e.contentHash])).rows[0];
    return reused ? { kind: 'reuse-refused', reuseOf: reused.id } : null;
  }

  drain(): Promise<void> {
    if (this.inFlight === 0 && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Finishes pending writes; the pool belongs to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain();
    this.closed = true;
    clearInterval(this.probe);
  }
}
