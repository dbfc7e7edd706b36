// HTML building for the dashboard's server-rendered pages: every value goes through esc(); data
// for the page's script travels in a JSON <script type="application/json"> block (not executed,
// `<` escaped), so the strict CSP needs no inline script.
import type { Session } from './sessions.ts';

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function jsonBlock(id: string, data: unknown): string {
  const json = JSON.stringify(data).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return `<script type="application/json" id="${esc(id)}">${json}</script>`;
}

export const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export interface PageOptions {
  title: string;
  session?: Session;
  /** Which nav entry is current. */
  nav?: 'overview' | 'messages' | 'dead' | 'audit';
  scripts?: string[];
}

export function page(opts: PageOptions, body: string): string {
  const s = opts.session;
  const link = (key: PageOptions['nav'], href: string, text: string) =>
    `<a href="${href}"${opts.nav === key ? ' aria-current="page"' : ''}>${text}</a>`;
  const nav = s
    ? `<nav>${link('overview', '/', 'Overview')} ${link('messages', '/messages', 'Messages')} ${link('dead', '/dead-letters', 'Dead letters')}` +
      `${s.role === 'operator' ? ` ${link('audit', '/audit', 'Audit log')}` : ''}` +
      `<span class="who"><span id="user">${esc(s.username)}</span> (<span id="role">${esc(s.role)}</span>)` +
      `<form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="${esc(s.csrf)}"><button id="logout">Sign out</button></form></span></nav>`
    : '';
  const scripts = (opts.scripts ?? []).map((src) => `<script src="${esc(src)}" defer></script>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<meta name="referrer" content="same-origin"><title>${esc(opts.title)} · hdc</title>` +
    `<link rel="stylesheet" href="/assets/uPlot.min.css"><link rel="stylesheet" href="/assets/dashboard.css">${scripts}</head>` +
    `<body><header><strong>hdc</strong> monitoring ${nav}</header><main><h1>${esc(opts.title)}</h1>${body}</main></body></html>`;
}

export function csrfField(s: Session): string {
  return `<input type="hidden" name="csrf" value="${esc(s.csrf)}">`;
}
