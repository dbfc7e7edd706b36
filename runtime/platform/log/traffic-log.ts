// The listener's traffic at info level: one line per interval with message counts by sender,
// message type and ACK code, instead of one line per message (which cost more CPU than parsing
// the message). Counts only: no control IDs or content. Refusals are still logged one by one by
// the listener; per-message lines for accepted messages are at debug level. Workflow runs are
// counted the same way (queued, and settled by workflow and status), from the run events, and so
// are dead letters with a reason of their own (a workflow that rejected a message already
// acknowledged), so a partner told AA about a message nobody processed does not go unnoticed.
import type { AnsweredMessage, InboundEvents } from '../../inbound/inbound-events.ts';
import type { Logger } from 'pino';
import type { EnqueuedEvent, FinishedEvent, RunEvents } from '../../journal/run-events.ts';

/** sender → message type → ACK code → count */
type Counts = Map<string, Map<string, Map<string, number>>>;

export class TrafficLog {
  private counts: Counts = new Map();
  private messages = 0;
  private duplicates = 0;
  private reused = 0;
  /** Counts since start (tests, operations): messages answered, resends, reused control IDs. */
  readonly totals = { messages: 0, duplicates: 0, reusedControlIds: 0 };
  private since = Date.now();
  private timer: NodeJS.Timeout | undefined;
  /** workflow → status → count, for runs settled since the last line. */
  private runs = new Map<string, Map<string, number>>();
  private runsQueued = 0;
  private runsSettled = 0;
  /** reason → dead letters since the last line */
  private deadLetters = new Map<string, number>();
  private events: RunEvents | undefined;
  private inbound: InboundEvents | undefined;
  private readonly onEnqueued = (e: EnqueuedEvent) => void (this.runsQueued += e.runIds.length);
  private readonly onFinished = (e: FinishedEvent) => {
    this.countRun(e.workflow ?? '(unknown)', e.status);
    if (e.status === 'dead' && e.reason) this.countDeadLetter(e.reason);
  };

  constructor(private readonly log: Logger, private readonly intervalMs = 10_000) {}

  /** Starts the periodic line (the timer does not keep the process alive). */
  start(): this {
    this.timer ??= setInterval(() => this.flush(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Counts runs from these events: `enqueued` (queued) and `finished` (settled, dead letters by reason). */
  /** Counts runs from `events` and, when given, answered messages from `inbound`. */
  watch(events: RunEvents, inbound?: InboundEvents): this {
    this.unwatch();
    this.events = events;
    this.inbound = inbound;
    events.on('enqueued', this.onEnqueued);
    events.on('finished', this.onFinished);
    inbound?.on('message', this.onMessage);
    return this;
  }

  private unwatch(): void {
    this.events?.off('enqueued', this.onEnqueued);
    this.events?.off('finished', this.onFinished);
    this.inbound?.off('message', this.onMessage);
    this.events = undefined;
    this.inbound = undefined;
  }

  private readonly onMessage = (m: AnsweredMessage) => this.count(m.sender, m.messageType, m.ackCode, m.duplicate, m.reusedControlId);

  /** Counts one settled workflow run. */
  countRun(workflow: string, status: string): void {
    let byStatus = this.runs.get(workflow);
    if (!byStatus) this.runs.set(workflow, (byStatus = new Map()));
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.runsSettled++;
  }

  countDeadLetter(reason: string): void {
    this.deadLetters.set(reason, (this.deadLetters.get(reason) ?? 0) + 1);
  }

  /**
   * Counts one answered message; `sender` is null when no sender matched. `reused`: a different
   * message with a control ID the sending system used before (journaled, or refused with AR).
   */
  count(sender: string | null, type: string, ack: string, duplicate: boolean, reused = false): void {
    const s = sender ?? '(none)';
    let byType = this.counts.get(s);
    if (!byType) this.counts.set(s, (byType = new Map()));
    let byAck = byType.get(type);
    if (!byAck) byType.set(type, (byAck = new Map()));
    byAck.set(ack, (byAck.get(ack) ?? 0) + 1);
    this.messages++;
    this.totals.messages++;
    if (duplicate) {
      this.duplicates++;
      this.totals.duplicates++;
    }
    if (reused) {
      this.reused++;
      this.totals.reusedControlIds++;
    }
  }

  /** Logs the counts since the last line, if any message was answered or run counted, and starts over. */
  flush(): void {
    const now = Date.now();
    if (this.messages > 0 || this.runsQueued > 0 || this.runsSettled > 0) {
      const senders: Record<string, Record<string, Record<string, number>>> = {};
      for (const [sender, byType] of this.counts) {
        const types: Record<string, Record<string, number>> = (senders[sender] = {});
        for (const [type, byAck] of byType) types[type] = Object.fromEntries(byAck);
      }
      const workflows: Record<string, Record<string, number>> = {};
      for (const [workflow, byStatus] of this.runs) workflows[workflow] = Object.fromEntries(byStatus);
      const dead = this.deadLetters.size ? { deadLetters: Object.fromEntries(this.deadLetters) } : {};
      this.log.info({
        messages: this.messages, duplicates: this.duplicates, reusedControlIds: this.reused,
        seconds: Math.round((now - this.since) / 100) / 10, senders,
        runs: { queued: this.runsQueued, settled: this.runsSettled, workflows }, ...dead,
      }, 'hl7 traffic');
    }
    this.counts = new Map();
    this.deadLetters = new Map();
    this.runs = new Map();
    this.messages = 0;
    this.duplicates = 0;
    this.reused = 0;
    this.runsQueued = 0;
    this.runsSettled = 0;
    this.since = now;
  }

  /** Stops the timer and the counting of run events, and logs what was counted since the last line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unwatch();
    this.flush();
  }
}
