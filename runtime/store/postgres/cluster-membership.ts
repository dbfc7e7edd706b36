// The runtimes sharing a PostgreSQL store, each with the hash of the plan it runs. A runtime
// refuses to join runtimes that run another plan (HDC8300) unless started with --rolling (a rolling
// upgrade: old and new plans side by side, each claiming only runs of workflow definitions it
// has). Members renew their row while alive; one not seen for three leases is gone.
import type pg from 'pg';
import { pgTransaction } from './pg-pool.ts';

export const MEMBERSHIP_LOCK = 0x6864630003;

export class ClusterPlanMismatch extends Error {
  readonly code = 'HDC8300';
  constructor(readonly ours: string, readonly theirs: string[]) {
    super(`HDC8300 this runtime's plan (${ours}) differs from the plan of the runtimes already running on this store (${theirs.join(', ')}): ` +
      'deploy the same plan, or start with --rolling for a rolling upgrade');
  }
}

export interface Membership {
  stop(): Promise<void>;
}

export async function joinCluster(pool: pg.Pool, me: { runtimeId: string; planHash: string; rolling: boolean; leaseMs: number; workflowHashes?: readonly string[] }): Promise<Membership> {
  await pgTransaction(pool, async (client) => {
    // Two runtimes starting together see each other: the second waits for the first's row.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MEMBERSHIP_LOCK]);
    await client.query('DELETE FROM cluster_members WHERE seen_at < hdc_now_ms() - $1', [3 * me.leaseMs]);
    const others = (await client.query<{ plan_hash: string }>('SELECT DISTINCT plan_hash FROM cluster_members WHERE runtime_id <> $1', [me.runtimeId])).rows.map((r) => r.plan_hash);
    const foreign = others.filter((h) => h !== me.planHash);
    if (foreign.length && !me.rolling) throw new ClusterPlanMismatch(me.planHash, foreign);
    await client.query(
      `INSERT INTO cluster_members (runtime_id, plan_hash, rolling, workflow_hashes, started_at, seen_at) VALUES ($1, $2, $3, $4, hdc_now_ms(), hdc_now_ms())
       ON CONFLICT (runtime_id) DO UPDATE SET plan_hash = excluded.plan_hash, rolling = excluded.rolling, workflow_hashes = excluded.workflow_hashes, seen_at = excluded.seen_at`,
      [me.runtimeId, me.planHash, me.rolling, me.workflowHashes ?? []]);
  });
  const timer = setInterval(() => {
    pool.query('UPDATE cluster_members SET seen_at = hdc_now_ms() WHERE runtime_id = $1', [me.runtimeId]).catch(() => {});
  }, Math.max(250, Math.floor(me.leaseMs / 3)));
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await pool.query('DELETE FROM cluster_members WHERE runtime_id = $1', [me.runtimeId]).catch(() => {});
    },
  };
}
