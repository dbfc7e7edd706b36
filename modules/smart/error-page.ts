// The plain HTML page a failed launch ends on: a short explanation and a correlation id that
// support staff find in the log. Nothing from the request or the FHIR data is echoed.
import { randomBytes } from 'node:crypto';
import { escapeHtml, htmlPage } from '../../runtime/platform/html-page.ts';

export function correlationId(): string {
  return randomBytes(8).toString('hex');
}

export function errorPage(text: string, id: string): string {
  return htmlPage('Launch failed', `<p id="error">${escapeHtml(text)}</p><p>Reference: <code id="correlation-id">${escapeHtml(id)}</code></p>`);
}
