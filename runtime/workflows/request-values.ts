// Turns evaluated expression values into the strings HTTP needs: query pairs (arrays repeat the
// parameter, null drops it), header values, and text for a path segment.
import { WorkflowError } from './workflow-error.ts';

export function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function queryPairs(value: unknown, src?: string): Array<[string, string]> {
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new WorkflowError('query parameters must be an object', { transient: false, src });
  }
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      const text = toText(item);
      if (text !== null) out.push([k, text]);
    }
  }
  return out;
}

export function headerValues(value: unknown, src?: string): Record<string, string> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new WorkflowError('headers must be an object', { transient: false, src });
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const text = toText(v);
    if (text === null) continue;
    if (/[\r\n]/.test(text)) throw new WorkflowError(`header ${k} contains a line break`, { transient: false, src });
    out[k.toLowerCase()] = text;
  }
  return out;
}
