// The runtime's metrics in the Prometheus text format (prom-client, its own registry). Names and
// labels follow the Prometheus conventions (hdc_ prefix, base units, _total counters, snake_case
// labels). Labels carry only names from the plan and code values (sender, message type, ACK code,
// workflow, status): never control IDs, content or anything about a patient.
// Message types are checked for shape, so a partner cannot create series at will.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SharedSql } from '../../runtime/store/shared-sql.ts';
import { LATENCY_BOUNDS_MS } from './latency-buckets.ts';
import { UNMATCHED } from './rollups.ts';
import { MessageSeries } from './message-series.ts';
import { PlainHistogram, type HistogramCounts } from './plain-histogram.ts';

const MESSAGE_TYPE = /^[A-Z0-9]{3}(?:\^[A-Z0-9]{3})?$/;
const CODE = /^[A-Z]{2}$/;

/** A label value drawn from partner input kept to a known shape ("other" otherwise). */
export function boundedMessageType(type: string): string {
  return MESSAGE_TYPE.test(type) ? type : 'other';
}

export class Metrics {
  readonly registry = new Registry();
  private readonly messages: MessageSeries;
  private readonly runs: Counter<'workflow' | 'status'>;
  private readonly steps: Histogram<'workflow' | 'kind' | 'status'>;
  private readonly outbound: Counter<'api' | 'status_code'>;
  private readonly outboundLatency: Histogram<'api'>;
  private readonly apiOf: Map<string, Map<string, string>>;
  private readonly deadLetters: Counter<'workflow'>;
  private readonly commitDuration: PlainHistogram;
  private readonly commitBatch: PlainHistogram;
  /** The two commit histograms' only series. */
  private readonly commits: { duration: HistogramCounts; batch: HistogramCounts };
  private readonly launches: Counter<'launch' | 'outcome'> | undefined;
  private readonly launchNames: ReadonlySet<string>;
  private readonly bulk: { resources: Counter<'block'>; bytes: Counter<'block'>; errors: Counter<'block'>; exports: Counter<'block' | 'outcome'> } | undefined;
  private readonly bulkNames: ReadonlySet<string>;

  /** `apis`: workflow → step id → the API its request goes to; `launches`: the plan's `smart launch` names; `bulk`: its `bulk` block names. */
  constructor(private readonly sql: SharedSql, senders: readonly string[], apis: Map<string, Map<string, string>> = new Map(), launches: readonly string[] = [], bulk: readonly string[] = []) {
    const known = new Set(senders);
    const senderLabel = (s: string | null) => (s === null ? UNMATCHED : known.has(s) ? s : 'other');
    this.messages = new MessageSeries(this.registry, (sender, type, ack) => ({
      sender: senderLabel(sender), message_type: boundedMessageType(type), ack_code: CODE.test(ack) ? ack : 'other',
    }));
    this.runs = new Counter({
      name: 'hdc_workflow_runs_total', help: 'Workflow runs settled, by workflow and status (done, rejected, failed, dead).',
      labelNames: ['workflow', 'status'], registers: [this.registry],
    });
    this.steps = new Histogram({
      name: 'hdc_workflow_step_duration_seconds', help: 'Duration of workflow steps (their last attempt), by workflow, step kind and status.',
      labelNames: ['workflow', 'kind', 'status'], buckets: LATENCY_BOUNDS_MS.map((ms) => ms / 1000), registers: [this.registry],
    });
    this.outbound = new Counter({
      name: 'hdc_outbound_requests_total', help: 'Requests workflow steps sent to declared APIs, by API and HTTP status (0: no response).',
      labelNames: ['api', 'status_code'], registers: [this.registry],
    });
    this.outboundLatency = new Histogram({
      name: 'hdc_outbound_request_duration_seconds', help: 'Duration of requests to declared APIs (the step\'s last attempt), by API.',
      labelNames: ['api'], buckets: LATENCY_BOUNDS_MS.map((ms) => ms / 1000), registers: [this.registry],
    });
    this.apiOf = apis;
    this.deadLetters = new Counter({
      name: 'hdc_dead_letters_total', help: 'Workflow runs that became dead letters, by workflow.', labelNames: ['workflow'], registers: [this.registry],
    });
    // Observed per journal commit, which is every few messages: kept as plain numbers too.
    this.commitDuration = new PlainHistogram(this.registry, 'hdc_journal_commit_duration_seconds',
      'Time to make a batch of journal entries durable (the writer\'s round trip and the commit).', [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
    this.commitBatch = new PlainHistogram(this.registry, 'hdc_journal_commit_batch_size',
      'HL7 messages per journal commit (group commit gathers concurrent requests into one).', [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]);
    this.commits = { duration: this.commitDuration.counts(), batch: this.commitBatch.counts() };
    this.launchNames = new Set(launches);
    this.launches = launches.length
      ? new Counter({
          name: 'hdc_smart_launches_total', help: 'SMART launches ended, by launch and outcome (completed, refused, failed).',
          labelNames: ['launch', 'outcome'], registers: [this.registry],
        })
      : undefined;
    this.bulkNames = new Set(bulk);
    // Bulk FHIR exports (the bulk module's announcements), for plans with `bulk` blocks.
    this.bulk = bulk.length
      ? {
          resources: new Counter({
            name: 'hdc_bulk_resources_total', help: 'Resources of Bulk FHIR exports handed on to their workflows (or read, for types without one), by bulk block.',
            labelNames: ['block'], registers: [this.registry],
          }),
          bytes: new Counter({
            name: 'hdc_bulk_downloaded_bytes_total', help: 'Bytes of Bulk FHIR export files read, by bulk block.', labelNames: ['block'], registers: [this.registry],
          }),
          errors: new Counter({
            name: 'hdc_bulk_error_records_total', help: 'Error records of Bulk FHIR exports (the server\'s error[] entries, bad lines, files that failed), by bulk block.',
            labelNames: ['block'], registers: [this.registry],
          }),
          exports: new Counter({
            name: 'hdc_bulk_exports_total', help: 'Bulk FHIR exports ended, by bulk block and outcome (done, failed, cancelled).',
            labelNames: ['block', 'outcome'], registers: [this.registry],
          }),
        }
      : undefined;
    // These counts read every waiting run (a backlog of 100,000 runs costs ~40 ms of SQLite's
    // main thread), so they are counted again at most every GAUGE_MAX_AGE_MS however often
    // Prometheus scrapes, and less often the longer a count took: a scrape every second must not
    // cost ingest a few per cent during an outage, when the backlog grows. With a PostgreSQL store
    // they count the cluster's queue: every runtime reports the same.
    const queued = cachedCounts(sql, `SELECT workflow, COUNT(*) AS n FROM workflow_runs WHERE status IN ('queued','running','failed') GROUP BY workflow`);
    const dead = cachedCounts(sql, `SELECT workflow, COUNT(*) AS n FROM workflow_runs WHERE status = 'dead' GROUP BY workflow`);
    new Gauge({
      name: 'hdc_workflow_queue_depth', help: 'Workflow runs waiting to finish (queued, running or waiting to retry), by workflow.',
      labelNames: ['workflow'], registers: [this.registry],
      async collect() {
        const rows = await queued();
        this.reset();
        for (const r of rows) this.set({ workflow: r.workflow }, r.n);
      },
    });
    new Gauge({
      name: 'hdc_dead_letters', help: 'Dead letters waiting for a replay, by workflow.', labelNames: ['workflow'], registers: [this.registry],
      async collect() {
        const rows = await dead();
        this.reset();
        for (const r of rows) this.set({ workflow: r.workflow }, r.n);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'hdc_' });
  }

  countMessage(sender: string | null, type: string, ack: string, latencyMs: number): void {
    this.messages.count(sender, type, ack, latencyMs);
  }

  observeCommit(entries: number, seconds: number): void {
    this.commitDuration.observe(this.commits.duration, seconds);
    this.commitBatch.observe(this.commits.batch, entries);
  }

  countLaunch(launch: string, outcome: string): void {
    this.launches?.inc({ launch: this.launchNames.has(launch) ? launch : 'other', outcome });
  }

  /** What a `bulk-export` announcement added (see BulkExports.take). */
  countBulk(i: { block: string; resources: number; bytes: number; errors: number; outcome?: string }): void {
    if (!this.bulk) return;
    const block = this.bulkNames.has(i.block) ? i.block : 'other';
    // Zero increments still create the series, so a block's counters exist from its first announcement.
    this.bulk.resources.inc({ block }, i.resources);
    this.bulk.bytes.inc({ block }, i.bytes);
    this.bulk.errors.inc({ block }, i.errors);
    if (i.outcome) this.bulk.exports.inc({ block, outcome: i.outcome });
  }

  /** Resolves once the run's steps were counted too (read from the store after the run settled). */
  countRun(workflow: string, status: string, runId?: number): Promise<void> {
    this.runs.inc({ workflow, status });
    if (status === 'dead') this.deadLetters.inc({ workflow });
    return runId !== undefined ? this.countSteps(workflow, runId) : Promise.resolve();
  }

  /** The settled run's steps: durations, and the requests among them by API and HTTP status. */
  private async countSteps(workflow: string, runId: number): Promise<void> {
    const apis = this.apiOf.get(workflow);
    const steps = await this.sql.all<{ step_id: string; kind: string; status: string; started_at: number; finished_at: number; result: string | null }>(
      'SELECT step_id, kind, status, started_at, finished_at, result FROM run_steps WHERE run_id = $1', [runId]);
    for (const s of steps) {
      const seconds = Math.max(0, Number(s.finished_at) - Number(s.started_at)) / 1000;
      this.steps.observe({ workflow, kind: s.kind, status: s.status }, seconds);
      const api = apis?.get(s.step_id);
      if (!api) continue;
      let code = 0;
      try {
        const r = s.result ? (JSON.parse(s.result) as { status?: unknown }) : undefined;
        if (typeof r?.status === 'number') code = r.status;
      } catch {
        // no status to count
      }
      this.outbound.inc({ api, status_code: String(code) });
      this.outboundLatency.observe({ api }, seconds);
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** How old the queue-depth and dead-letter gauges may be when scraped, at the least. */
export const GAUGE_MAX_AGE_MS = 10_000;
/** A count waits this many times its own duration before the next: counts take at most 0.2 % of the thread. */
export const GAUGE_COST_FACTOR = 500;

/** A per-workflow count, read again only once the last reading is older than both bounds. */
function cachedCounts(sql: SharedSql, text: string): () => Promise<Array<{ workflow: string; n: number }>> {
  let rows: Array<{ workflow: string; n: number }> = [];
  let at = -Infinity;
  let maxAgeMs = GAUGE_MAX_AGE_MS;
  return async () => {
    const now = Date.now();
    if (now - at >= maxAgeMs || now < at) {
      const started = performance.now();
      rows = (await sql.all<{ workflow: string; n: number }>(text)).map((r) => ({ workflow: r.workflow, n: Number(r.n) }));
      at = now;
      maxAgeMs = Math.max(GAUGE_MAX_AGE_MS, (performance.now() - started) * GAUGE_COST_FACTOR);
    }
    return rows;
  };
}

/** workflow → step id → API, for every step that sends a request (walks nested branches and loops). */
export function stepApis(workflows: ReadonlyArray<{ name: string; steps: unknown }>): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const walk = (v: unknown, into: Map<string, string>): void => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, into));
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.id === 'string' && typeof o.api === 'string') into.set(o.id, o.api);
    for (const x of Object.values(o)) if (x && typeof x === 'object') walk(x, into);
  };
  for (const w of workflows) {
    const m = new Map<string, string>();
    walk(w.steps, m);
    out.set(w.name, m);
  }
  return out;
}
