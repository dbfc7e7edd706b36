// plan.modules.bulk read into what the exporter needs: one BulkExportSpec per `bulk` block. The
// blocks passed the module's checks (checks.ts) at compile time and again at start.
import type { Plan } from '../../plan/plan.types.ts';
import { parseCron, type Cron } from './cron.ts';
import { phrases, valuesOf } from './settings-shape.ts';

export type BulkLevel = { kind: 'system' } | { kind: 'patient' } | { kind: 'group'; group: string };

export interface BulkExportSpec {
  name: string;
  /** The FHIR API exported from. */
  api: string;
  /** The block's place in its .hdc file ("file:line:col-…"), for errors. */
  src: string;
  level: BulkLevel;
  types: string[];
  typeFilters: string[];
  elements: string[];
  since?: { lastSuccess: true } | { instant: string };
  schedule?: { cron: Cron; text: string } | { everyMs: number };
  /** Workflow per resource type; `deleted` for the deleted[] files. */
  routes: Map<string, string>;
  store?: { folder: string };
  concurrency: number;
  kickoff: 'get' | 'post';
  patients: string[];
  includeAssociatedData: string[];
  outputFormat?: string;
}

type Blocks = Record<string, { name: string; from: string; src: string; settings: Record<string, unknown> }>;

export function bulkBlocks(plan: Plan): Blocks {
  return ((plan.modules as Record<string, unknown> | undefined)?.bulk ?? {}) as Blocks;
}

export function readBulkPlan(plan: Plan): BulkExportSpec[] {
  return Object.values(bulkBlocks(plan)).map((b) => {
    const s = b.settings;
    const level = valuesOf(s.level).map(String);
    const since = valuesOf(s.since).map(String)[0];
    const schedule = valuesOf(s.schedule);
    let sched: BulkExportSpec['schedule'];
    if (schedule[0] === 'every') sched = { everyMs: Number(schedule[1]) };
    else if (typeof schedule[0] === 'string') {
      const c = parseCron(schedule[0]);
      if (!('error' in c)) sched = { cron: c, text: schedule[0] };
    }
    const store = valuesOf(s.store).map(String);
    return {
      name: b.name,
      api: b.from,
      src: b.src,
      level: level[0] === 'group' ? { kind: 'group', group: level[1] ?? '' } : level[0] === 'patient' ? { kind: 'patient' } : { kind: 'system' },
      types: valuesOf(s.types).map(String),
      typeFilters: valuesOf(s.type_filter).map(String),
      elements: valuesOf(s.elements).map(String),
      ...(since ? { since: since === 'last_success' ? { lastSuccess: true as const } : { instant: since } } : {}),
      ...(sched ? { schedule: sched } : {}),
      routes: new Map(phrases(s.on).map((w) => [String(w[0]), String(w[2])])),
      ...(store.length === 2 ? { store: { folder: store[1]! } } : {}),
      concurrency: typeof s.concurrency === 'number' ? s.concurrency : 4,
      kickoff: s.kickoff === 'post' ? 'post' : 'get',
      patients: valuesOf(s.patient).map(String),
      includeAssociatedData: valuesOf(s.include_associated_data).map(String),
      ...(typeof s.output_format === 'string' ? { outputFormat: s.output_format } : {}),
    };
  });
}
