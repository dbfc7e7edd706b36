// The dashboard's retention: rollups and audit entries older than the retention are deleted (the
// hourly rollups from the hour that holds the cutoff on). With PostgreSQL one statement does it
// all under a transaction-scoped advisory lock, so one runtime of a cluster purges at a time and
// the others, finding the lock taken, remove nothing.
import type { SharedSql } from '../../runtime/store/shared-sql.ts';
import { HOUR } from './rollups.ts';

/** The advisory lock of this purge: a constant the store's own locks (0x68646300xx) do not use. */
export const MONITORING_PURGE_LOCK = 0x6864630010;

const TABLES = [
  ['monitoring_message_minutes', 'minute', 'cutoff'],
  ['monitoring_message_hours', 'minute', 'hour'],
  ['monitoring_run_minutes', 'minute', 'cutoff'],
  ['monitoring_launch_minutes', 'minute', 'cutoff'],
  ['monitoring_audit', 'at', 'cutoff'],
  ['monitoring_bulk_exports', 'updated_at', 'cutoff'],
] as const;

/** Deletes the module's rows from before `cutoff`; the rows removed (the hourly rollups are not counted: they duplicate the minutes). */
export async function purgeMonitoring(sql: SharedSql, cutoff: number): Promise<number> {
  const hour = cutoff - (cutoff % HOUR);
  const param = (which: 'cutoff' | 'hour') => (which === 'cutoff' ? '$1' : '$2');
  if (sql.dialect === 'postgres') {
    const parts = TABLES.map(([t, col, which], i) => `d${i} AS (DELETE FROM ${t} WHERE ${col} < ${param(which)} AND (SELECT got FROM lock) RETURNING 1)`);
    const counted = TABLES.flatMap(([t], i) => (t === 'monitoring_message_hours' ? [] : [`(SELECT count(*) FROM d${i})`]));
    const row = await sql.get<{ n: number }>(`WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($3) AS got), ${parts.join(', ')}
      SELECT ${counted.join(' + ')} AS n`, [cutoff, hour, MONITORING_PURGE_LOCK]);
    return Number(row?.n ?? 0);
  }
  let n = 0;
  for (const [t, col, which] of TABLES) {
    const removed = await sql.run(`DELETE FROM ${t} WHERE ${col} < $1`, [which === 'cutoff' ? cutoff : hour]);
    if (t !== 'monitoring_message_hours') n += removed;
  }
  return n;
}
