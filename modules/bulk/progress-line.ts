// One line describing an export's progress, for `hdc bulk` (a bar on a terminal, plain lines
// otherwise): files, resources, bytes, rate and the time left, estimated from the manifest's
// per-file counts when the server gave them.
import type { ExportRow } from './bulk-store.ts';

export interface ProgressSample { at: number; resources: number }

const mb = (n: number) => `${(n / 1_048_576).toFixed(1)} MB`;
const duration = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

/** `expected`: the resources the manifest announced (sum of counts), when known. `first`: where the rate is measured from. */
export function progressLine(row: ExportRow, expected: number | undefined, first: ProgressSample | undefined, now: number, opts: { bar?: number } = {}): string {
  const head = `${row.name} ${row.id} ${row.status}`;
  if (row.status === 'requested') return `${head}: waiting for a runtime to start it`;
  if (row.status === 'kickoff' || row.status === 'polling') return `${head}${row.progress ? ` (${row.progress})` : ''}: the server is preparing the files`;
  // While it runs, the rate since `first`; once finished, over the whole export.
  const rate = row.finished_at && row.finished_at > row.created_at ? (row.resources * 1000) / (row.finished_at - row.created_at)
    : first && now > first.at ? ((row.resources - first.resources) * 1000) / (now - first.at) : 0;
  const parts = [
    `files ${row.files_done}/${row.files}`,
    `resources ${row.resources}${expected ? `/${expected}` : ''}`,
    mb(row.bytes),
    `${Math.round(rate)}/s`,
  ];
  if (expected && rate > 0 && row.status === 'downloading') parts.push(`ETA ${duration(((expected - row.resources) / rate) * 1000)}`);
  if (row.errors) parts.push(`${row.errors} errors`);
  let bar = '';
  if (opts.bar && (expected || row.files)) {
    const done = expected ? Math.min(1, row.resources / expected) : row.files_done / Math.max(1, row.files);
    const fill = Math.round(done * opts.bar);
    bar = `[${'#'.repeat(fill)}${'.'.repeat(opts.bar - fill)}] ${Math.floor(done * 100)}% `;
  }
  return `${head} ${bar}${parts.join('  ')}${row.error ? `\n  ${row.error}` : ''}`;
}
