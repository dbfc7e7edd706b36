// Reading an OperationOutcome a Bulk Data server sent: whether it says "try again" (IG 2.0: a
// status check that failed without the export failing uses a transient issue code), and its text
// for the export's error (the server's words, which carry no resource content).
export interface Outcome { transient: boolean; text: string }

const TRANSIENT = new Set(['transient', 'throttled', 'timeout', 'lock-error', 'no-store', 'exception', 'incomplete']);

export function readOutcome(body: string): Outcome | undefined {
  let o: { resourceType?: string; issue?: Array<{ code?: string; severity?: string; diagnostics?: string; details?: { text?: string } }> };
  try {
    o = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (o?.resourceType !== 'OperationOutcome' || !Array.isArray(o.issue)) return undefined;
  const issues = o.issue;
  const text = issues.map((i) => i.diagnostics ?? i.details?.text ?? i.code ?? '').filter(Boolean).join('; ').slice(0, 500);
  return { transient: issues.length > 0 && issues.every((i) => TRANSIENT.has(i.code ?? '')), text };
}
