// The dashboard's pages, rendered on the server. Viewers see counts, charts, message metadata and
// masked content; operators also see content and can replay dead letters and messages.
import type { RunReport } from '../../../runtime/workflows/run-report.ts';
import { csrfField, esc, fmtMs, iso, jsonBlock, page } from './html.ts';
import type { AuditEntry } from './audit-log.ts';
import { ackCode, maskAck, maskMessage } from './mask.ts';
import { MESSAGE_STATUSES, type MessageDetail, type MessageFilter, type MessageRow } from './message-search.ts';
import { RANGES, type OverviewData } from './overview-data.ts';
import type { Session } from './sessions.ts';
import { replayable } from './message-replay.ts';

const ACK_CODES = ['AA', 'AE', 'AR', 'CA', 'CE', 'CR'] as const;
const OVERVIEW_SCRIPTS = ['/assets/uPlot.iife.min.js', '/assets/dashboard.js'];

const q = (params: Record<string, string | number | undefined>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
};

/** A duration in words for the senders table: `4 min`, `2 h`, `3 d`. */
function fmtGap(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 3_600_000) return `${Math.max(1, Math.round(ms / 60_000))} min`;
  if (ms < 2 * 86_400_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

const LAUNCH_OUTCOMES = ['completed', 'refused', 'failed'] as const;

/** Bytes in words: `812 B`, `3.4 MB`, `1.2 GB`. */
function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

const EXPORT_COLUMNS = ['Block', 'Export', 'Status', 'Files', 'Resources', 'Errors', 'Bytes', 'Rate', 'Started', 'Ended'] as const;

function exportRows(exports: NonNullable<OverviewData['exports']>): string {
  return exports.length
    ? exports.map((e) => `<tr data-block="${esc(e.block)}" data-export="${esc(e.export)}" data-status="${esc(e.status)}"><td>${esc(e.block)}</td>` +
        `<td class="export-id">${esc(e.export)}</td><td data-stat="status">${esc(e.status)}</td>` +
        `<td class="num" data-stat="files">${e.filesDone}/${e.files}</td><td class="num" data-stat="resources">${e.resources}</td>` +
        `<td class="num" data-stat="errors">${e.errors}</td><td class="num" data-stat="bytes" title="${e.bytes} bytes">${fmtBytes(e.bytes)}</td>` +
        `<td class="num" data-stat="rate">${e.rate === null ? '–' : `${e.rate}/s`}</td>` +
        `<td data-stat="started">${esc(iso(e.startedAt))}</td><td data-stat="ended">${e.endedAt === null ? 'running' : esc(iso(e.endedAt))}</td></tr>`).join('')
    : `<tr><td colspan="${EXPORT_COLUMNS.length}" class="empty">No Bulk FHIR exports yet.</td></tr>`;
}

export function overviewTables(d: OverviewData): { summaries: string; senders: string; runs: string; launches?: string; exports?: string } {
  const summaries = d.summaries.length
    ? d.summaries.map((s) => `<tr data-sender="${esc(s.sender)}" data-type="${esc(s.messageType)}">` +
        `<td><a href="/messages${q({ sender: s.sender })}">${esc(s.sender)}</a></td>` +
        `<td><a href="/messages${q({ sender: s.sender, type: s.messageType })}">${esc(s.messageType)}</a></td>` +
        `<td class="num" data-stat="count">${s.count}</td>` +
        ACK_CODES.map((c) => `<td class="num" data-stat="${c}">${s.ackCodes[c] ?? 0}</td>`).join('') +
        `<td class="num" data-stat="p50">${fmtMs(s.p50)}</td><td class="num" data-stat="p95">${fmtMs(s.p95)}</td><td class="num" data-stat="p99">${fmtMs(s.p99)}</td></tr>`).join('')
    : `<tr><td colspan="${5 + ACK_CODES.length + 1}" class="empty">No messages in this range.</td></tr>`;
  const senders = d.senders.map((s) => `<tr data-sender="${esc(s.sender)}"><td><a href="/messages${q({ sender: s.sender })}">${esc(s.sender)}</a></td>` +
    `<td data-stat="last">${s.lastMessageAt ? esc(iso(s.lastMessageAt)) : 'never'}</td>` +
    `<td class="num" data-stat="usual-gap">${fmtGap(s.usualGapMs)}</td>` +
    `<td data-stat="silent">${s.silent ? '<span class="flag">silent for longer than usual</span>' : 'ok'}</td></tr>`).join('');
  const runs = d.runs.length
    ? d.runs.map((r) => `<tr data-workflow="${esc(r.workflow)}" data-status="${esc(r.status)}"><td>${esc(r.workflow)}</td><td>${esc(r.status)}</td><td class="num" data-stat="runs">${r.count}</td></tr>`).join('')
    : '<tr><td colspan="3" class="empty">No workflow runs settled in this range.</td></tr>';
  const exports = d.exports ? { exports: exportRows(d.exports) } : {};
  if (!d.launches) return { summaries, senders, runs, ...exports };
  const byLaunch = new Map<string, Record<string, number>>();
  for (const l of d.launches) byLaunch.set(l.launch, { ...byLaunch.get(l.launch), [l.outcome]: l.count });
  const launches = byLaunch.size
    ? [...byLaunch].map(([launch, o]) => `<tr data-launch="${esc(launch)}"><td>${esc(launch)}</td>` +
        LAUNCH_OUTCOMES.map((k) => `<td class="num" data-stat="${k}">${o[k] ?? 0}</td>`).join('') + '</tr>').join('')
    : `<tr><td colspan="${1 + LAUNCH_OUTCOMES.length}" class="empty">No SMART launches in this range.</td></tr>`;
  return { summaries, senders, runs, launches, ...exports };
}

export function overviewPage(session: Session, d: OverviewData): string {
  const t = overviewTables(d);
  const ranges = Object.keys(RANGES).map((r) => `<a href="/${q({ range: r })}"${r === d.range ? ' aria-current="true"' : ''}>${r}</a>`).join(' ');
  return page({ title: 'Overview', session, nav: 'overview', scripts: OVERVIEW_SCRIPTS },
    `<p class="ranges">Range: ${ranges} <span id="live" class="live">live</span> · <a href="/export.csv${q({ range: d.range })}" id="export" download>Export (CSV)</a></p>` +
    `<section class="cards"><div class="card"><span class="label">Messages</span><span id="total-messages" class="big">${d.messages}</span></div>` +
    `<div class="card"><span class="label">Dead letters</span><a href="/dead-letters" id="dead-letters" class="big">${d.deadLetters}</a></div></section>` +
    `<section><h2>Messages per ${d.stepMinutes === 1 ? 'minute' : `${d.stepMinutes} minutes`} by sender</h2><div id="chart-messages" class="chart"></div></section>` +
    `<section><h2>ACK codes</h2><div id="chart-acks" class="chart"></div></section>` +
    `<section><h2>By sender and message type</h2><table id="summaries"><thead><tr><th>Sender</th><th>Type</th><th>Messages</th>` +
    ACK_CODES.map((c) => `<th>${c}</th>`).join('') + `<th>p50</th><th>p95</th><th>p99</th></tr></thead><tbody>${t.summaries}</tbody></table></section>` +
    `<section><h2>Senders</h2><table id="senders"><thead><tr><th>Sender</th><th>Last message</th><th title="The usual gap between its messages over the last week">Usual gap</th><th>Status</th></tr></thead><tbody>${t.senders}</tbody></table></section>` +
    `<section><h2>Workflow runs</h2><table id="runs"><thead><tr><th>Workflow</th><th>Status</th><th>Runs</th></tr></thead><tbody>${t.runs}</tbody></table></section>` +
    (t.launches !== undefined
      ? `<section><h2>SMART launches by outcome</h2><table id="launches"><thead><tr><th>Launch</th>${LAUNCH_OUTCOMES.map((k) => `<th>${k}</th>`).join('')}</tr></thead><tbody>${t.launches}</tbody></table></section>`
      : '') +
    (t.exports !== undefined
      ? `<section><h2>Bulk FHIR exports</h2><table id="exports"><thead><tr>${EXPORT_COLUMNS.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${t.exports}</tbody></table></section>`
      : '') +
    jsonBlock('overview-data', d));
}

export function messagesPage(session: Session, f: MessageFilter, senders: string[], result: { rows: MessageRow[]; more: boolean }, pageNo: number, raw: Record<string, string>): string {
  const opt = (v: string, cur: string | undefined, label = v) => `<option value="${esc(v)}"${v === (cur ?? '') ? ' selected' : ''}>${esc(label)}</option>`;
  const form = `<form method="get" action="/messages" id="search" class="search">` +
    `<label>Sender <select name="sender">${opt('', f.sender, 'any')}${senders.map((s) => opt(s, f.sender)).join('')}</select></label>` +
    `<label>Type <input name="type" value="${esc(raw.type ?? '')}" placeholder="ADT^A01" size="9"></label>` +
    `<label>Control ID <input name="control_id" value="${esc(raw.control_id ?? '')}" size="14"></label>` +
    `<label>Status <select name="status">${opt('', f.status, 'any')}${MESSAGE_STATUSES.map((s) => opt(s, f.status)).join('')}</select></label>` +
    `<label>From <input type="datetime-local" name="from" value="${esc(raw.from ?? '')}"></label>` +
    `<label>To <input type="datetime-local" name="to" value="${esc(raw.to ?? '')}"></label>` +
    (session.role === 'operator'
      ? `<label>Mapped field <input name="field" value="${esc(raw.field ?? '')}" placeholder="mrn" size="10"></label>` +
        `<label>equals <input name="value" value="${esc(raw.value ?? '')}" size="14"></label>`
      : '') +
    `<button id="search-button">Search</button></form>`;
  const rows = result.rows.map((m) => `<tr data-id="${m.id}"><td><a href="/messages/${m.id}">${m.id}</a></td><td>${esc(iso(m.receivedAt))}</td><td>${esc(m.sender)}</td>` +
    `<td>${esc(`${m.messageType}^${m.trigger}`)}</td><td class="control-id">${esc(m.controlId)}</td><td>${esc(m.status)}</td><td>${esc(ackCode(m.ack))}</td></tr>`).join('');
  const params = { sender: f.sender, type: raw.type, control_id: raw.control_id, status: f.status, from: raw.from, to: raw.to, field: raw.field, value: raw.value };
  const pager = `<p class="pager">${pageNo > 0 ? `<a href="/messages${q({ ...params, page: pageNo - 1 })}" id="prev">newer</a>` : ''} page ${pageNo + 1} ` +
    `${result.more ? `<a href="/messages${q({ ...params, page: pageNo + 1 })}" id="next">older</a>` : ''}</p>`;
  return page({ title: 'Messages', session, nav: 'messages' }, form +
    `<table id="results"><thead><tr><th>#</th><th>Received</th><th>Sender</th><th>Type</th><th>Control ID</th><th>Status</th><th>ACK</th></tr></thead>` +
    `<tbody>${rows || '<tr><td colspan="7" class="empty">No messages match.</td></tr>'}</tbody></table>${pager}`);
}

function runSection(session: Session, r: RunReport, stepLines: Map<string, string>): string {
  const steps = r.steps.map((s) => `<tr><td>${esc(s.step)}</td><td>${esc(s.kind)}</td><td>${esc(s.status)}</td><td class="num">${s.ms} ms</td>` +
    `<td>${s.httpStatus ?? ''}</td><td>${esc(s.error ?? '')}</td><td class="src">${esc(stepLines.get(s.step) ?? '')}</td></tr>`).join('');
  const attempts = r.attemptHistory.map((a) => `<li>attempt ${a.attempt}: ${esc(a.status)}${a.httpStatus ? ` HTTP ${a.httpStatus}` : ''}${a.error ? ` — ${esc(a.error)}` : ''}</li>`).join('');
  const replay = session.role === 'operator' && (r.status === 'dead' || r.status === 'failed')
    ? `<form method="post" action="/runs/${r.id}/replay" class="replay">${csrfField(session)}` +
      `<label><input type="checkbox" name="confirm" value="yes" required> I want to run this again</label> <button id="replay-${r.id}">Replay run ${r.id}</button></form>`
    : '';
  return `<section class="run" id="run-${r.id}"><h3>Run ${r.id}: ${esc(r.workflow)} — <span class="status">${esc(r.status)}</span></h3>` +
    `<p>${r.attempts} attempt(s); created ${esc(r.createdAt)}${r.error ? `; error: <span class="error">${esc(r.error)}</span>` : ''}</p>` +
    (attempts ? `<ul>${attempts}</ul>` : '') +
    `<table><thead><tr><th>Step</th><th>Kind</th><th>Status</th><th>Time</th><th>HTTP</th><th>Error</th><th>.hdc</th></tr></thead><tbody>${steps || '<tr><td colspan="7" class="empty">No step finished.</td></tr>'}</tbody></table>${replay}</section>`;
}

export function messagePage(session: Session, m: MessageDetail, runs: RunReport[], stepLines: Map<string, string>): string {
  const operator = session.role === 'operator';
  const content = m.raw === null ? '<p id="content" class="empty">Content purged by retention.</p>'
    : `<pre id="content">${esc(operator ? m.raw.replace(/\r\n|\r/g, '\n') : maskMessage(m.raw))}</pre>` +
      (operator ? '<p class="note">Your view of this content is recorded in the audit log.</p>' : '<p class="note">Content masked: viewers see the structure only.</p>');
  return page({ title: `Message ${m.id}`, session, nav: 'messages' },
    `<dl class="meta"><dt>Sender</dt><dd id="m-sender">${esc(m.sender)}</dd><dt>Type</dt><dd id="m-type">${esc(`${m.messageType}^${m.trigger}`)}</dd>` +
    `<dt>Control ID</dt><dd id="m-control-id">${esc(m.controlId)}</dd><dt>Received</dt><dd>${esc(iso(m.receivedAt))}</dd>` +
    `<dt>Status</dt><dd id="m-status">${esc(m.status)}</dd><dt>ACK</dt><dd id="m-ack-code">${esc(ackCode(m.ack))}</dd></dl>` +
    `<h2>Message</h2>${content}<h2>ACK sent</h2><pre id="ack">${esc(operator ? m.ack.replace(/\r\n|\r/g, '\n') : maskAck(m.ack))}</pre>` +
    `<h2>Workflow runs</h2>${runs.map((r) => runSection(session, r, stepLines)).join('') || '<p class="empty">No workflow runs.</p>'}` +
    (operator && replayable(m.runIds)
      ? `<form method="post" action="/messages/${m.id}/replay" class="replay" id="replay-message">${csrfField(session)}` +
        `<p>Replaying runs the message through its workflow${new Set(m.runIds.map((r) => r.workflow)).size > 1 ? 's' : ''} again from the first step, as a new run, ` +
        `with the fields recorded when it arrived; requests are sent again.</p>` +
        `<label><input type="checkbox" name="confirm" value="yes" required> I want to process this message again</label> <button id="replay-message-${m.id}">Replay message ${m.id}</button></form>`
      : ''));
}

export function deadLettersPage(session: Session, rows: Array<{ id: number; workflow: string; sender: string; messageId: number; error: string | null; updatedAt: number }>): string {
  const body = rows.map((r) => `<tr data-run="${r.id}"><td><a href="/messages/${r.messageId}#run-${r.id}">${r.id}</a></td><td>${esc(r.workflow)}</td><td>${esc(r.sender)}</td>` +
    `<td>${esc(iso(r.updatedAt))}</td><td>${esc(r.error ?? '')}</td></tr>`).join('');
  return page({ title: 'Dead letters', session, nav: 'dead' },
    `<table id="dead"><thead><tr><th>Run</th><th>Workflow</th><th>Sender</th><th>Since</th><th>Error</th></tr></thead><tbody>${body || '<tr><td colspan="5" class="empty">No dead letters.</td></tr>'}</tbody></table>`);
}

export function auditPage(session: Session, entries: AuditEntry[]): string {
  const body = entries.map((e) => `<tr><td>${esc(iso(e.at))}</td><td>${esc(e.username)}</td><td>${esc(e.role)}</td><td class="action">${esc(e.action)}</td>` +
    `<td class="target">${esc(e.target ?? '')}</td><td>${esc(e.outcome)}</td></tr>`).join('');
  return page({ title: 'Audit log', session, nav: 'audit' },
    `<p><a href="/audit.csv" id="export" download>Export as CSV</a></p><table id="audit"><thead><tr><th>When</th><th>User</th><th>Role</th><th>Action</th><th>Target</th><th>Outcome</th></tr></thead><tbody>${body}</tbody></table>`);
}

export function loginPage(csrf: string, message?: string, oidc = false): string {
  const alert = message ? `<p role="alert" id="login-error">${esc(message)}</p>` : '';
  const form = oidc
    ? `<form method="post" action="/login">${`<input type="hidden" name="csrf" value="${esc(csrf)}">`}<button id="login">Sign in with your identity provider</button></form>`
    : `<form method="post" action="/login" autocomplete="on"><input type="hidden" name="csrf" value="${esc(csrf)}">` +
      `<p><label for="username">User name</label><br><input id="username" name="username" autocomplete="username" required></p>` +
      `<p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password" required></p>` +
      `<p><button id="login" type="submit">Sign in</button></p></form>`;
  return page({ title: 'Sign in' }, alert + form);
}

export function errorPage(session: Session | undefined, status: number, text: string): string {
  return page({ title: status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Error', ...(session ? { session } : {}) }, `<p id="error">${esc(text)}</p>`);
}
