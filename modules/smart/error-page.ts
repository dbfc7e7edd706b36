// The plain HTML page a failed launch ends on: a short explanation and a correlation id that
// support staff find in the log. Nothing from the request or the FHIR data is echoed.
import { randomBytes } from 'node:crypto';

export function correlationId(): string {
  return randomBytes(8).toString('hex');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function htmlPage(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

export function errorPage(text: string, id: string): string {
  return htmlPage('Launch failed', `<p id="error">${escapeHtml(text)}</p><p>Reference: <code id="correlation-id">${escapeHtml(id)}</code></p>`);
}
