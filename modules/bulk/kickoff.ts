// The kick-off request of a Bulk Data export (IG 2.0 "Bulk Data Kick-off Request"): the URL for
// the level, and the parameters as a query (GET) or a `Parameters` resource (POST).
import type { BulkExportSpec } from './bulk-plan.ts';

export interface KickoffRequest {
  url: string;
  method: 'GET' | 'POST';
  body?: string;
}

export function kickoffRequest(spec: BulkExportSpec, baseUrl: string, since: string | undefined): KickoffRequest {
  const base = baseUrl.replace(/\/+$/, '');
  const path = spec.level.kind === 'system' ? '$export' : spec.level.kind === 'patient' ? 'Patient/$export' : `Group/${encodeURIComponent(spec.level.group)}/$export`;
  const url = `${base}/${path}`;
  const params: Array<[string, string]> = [];
  params.push(['_outputFormat', spec.outputFormat ?? 'application/fhir+ndjson']);
  if (spec.types.length) params.push(['_type', spec.types.join(',')]);
  if (since) params.push(['_since', since]);
  // Repeated rather than comma-joined: a query may hold commas of its own (IG 2.0 allows both).
  for (const f of spec.typeFilters) params.push(['_typeFilter', f]);
  if (spec.elements.length) params.push(['_elements', spec.elements.join(',')]);
  if (spec.includeAssociatedData.length) params.push(['includeAssociatedData', spec.includeAssociatedData.join(',')]);
  if (spec.kickoff === 'get') {
    const q = new URLSearchParams(params);
    return { url: `${url}?${q.toString()}`, method: 'GET' };
  }
  const parameter: Array<Record<string, unknown>> = params.map(([name, value]) => (name === '_since' ? { name, valueInstant: value } : { name, valueString: value }));
  for (const p of spec.patients) parameter.push({ name: 'patient', valueReference: { reference: p } });
  return { url, method: 'POST', body: JSON.stringify({ resourceType: 'Parameters', parameter }) };
}
