// The module's own checks of plan.modules.bulk (HDC8600–HDC8612), each at the value it is about:
// run by the compiler on the lowered blocks and again by the runtime before it starts exports,
// so a hand-written plan gets the same answers. Pure: no I/O.
import type { ModuleCheckContext, ModuleProblem } from '../../compiler/specs/module-spec.ts';
import { checkResourceType, checkSearchParam, isResourceType, resolveElementPath } from '../../compiler/dictionaries/fhir.ts';
import { patientCompartment } from './patient-compartment.ts';
import { parseCron } from './cron.ts';
import { phrases, valuesOf } from './settings-shape.ts';

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

interface Block { kind: string; name?: string; from?: string; settings: Record<string, unknown> }

export function checkBulk(blocks: Record<string, unknown>, ctx: ModuleCheckContext): ModuleProblem[] {
  const out: ModuleProblem[] = [];
  for (const [name, raw] of Object.entries(blocks)) checkBlock(name, raw as Block, ctx, out);
  return out;
}

function checkBlock(name: string, b: Block, ctx: ModuleCheckContext, out: ModuleProblem[]): void {
  const s = b.settings ?? {};
  const problem = (code: ModuleProblem['code'], summary: string, hint: string, at: Partial<ModuleProblem> = {}, severity: 'error' | 'warning' = 'error') =>
    out.push({ code, severity, summary, hint, block: name, ...at });

  // from: a FHIR API (an unknown name is the compiler's HDC2001).
  const api = ctx.apis.find((a) => a.name === b.from);
  if (api && api.kind !== 'fhir') {
    problem('HDC8600', `bulk ${name}: api ${api.name} is a ${api.kind} API, not a FHIR server`, `Export from an \`api NAME fhir "…"\`: $export is a FHIR operation.`, { atFrom: true });
  } else if (api && !api.auth) {
    problem('HDC8611', `bulk ${name}: api ${api.name} has no auth`, 'Bulk Data servers require SMART Backend Services: give the api `auth NAME` (an auth … smart_backend).', { atFrom: true }, 'warning');
  }

  // level: system | patient | group "ID"
  const level = valuesOf(s.level).map(String);
  const kind = level[0];
  if (kind !== undefined) {
    if (kind === 'group') {
      if (level.length !== 2 || !level[1]) problem('HDC8601', `bulk ${name}: level group needs the Group's id`, 'Write: level group "g-diabetes".', { setting: 'level', value: 0 });
    } else if (kind === 'system' || kind === 'patient') {
      if (level.length !== 1) problem('HDC8601', `bulk ${name}: level ${kind} takes nothing after it`, `Write: level ${kind}.`, { setting: 'level', value: 1 });
    } else problem('HDC8601', `bulk ${name}: unknown level "${kind}"`, 'Write level system, level patient or level group "ID".', { setting: 'level', value: 0 });
  }
  const compartment = kind === 'patient' || kind === 'group';

  // types
  const types = valuesOf(s.types).map(String);
  types.forEach((t, i) => {
    const c = checkResourceType(t);
    if (!c.ok) problem('HDC8602', c.message, c.suggestions.length ? `Write ${c.suggestions[0]}.` : 'Name an R4 resource type, e.g. Patient.', { setting: 'types', value: i });
    else if (compartment && !patientCompartment.has(t)) {
      problem('HDC8603', `${t} is not in the Patient compartment: a ${kind}-level export cannot include it`, `Remove ${t}, or export at level system.`, { setting: 'types', value: i });
    }
  });
  const exported = (t: string) => (types.length ? types.includes(t) : !compartment || patientCompartment.has(t));

  // type_filter "Type?param=value&…"
  valuesOf(s.type_filter).map(String).forEach((f, i) => {
    const at = { setting: 'type_filter', value: i };
    const q = f.indexOf('?');
    const type = q < 0 ? f : f.slice(0, q);
    if (q < 0 || q === f.length - 1) return problem('HDC8604', `type_filter "${f}" is not TYPE?QUERY`, 'Write a search: type_filter "Observation?category=laboratory".', at);
    const tc = checkResourceType(type);
    if (!tc.ok) return problem('HDC8602', tc.message, tc.suggestions.length ? `Write ${tc.suggestions[0]}.` : 'Start with an R4 resource type.', { ...at, span: [0, q] });
    if (!exported(type)) problem('HDC8604', `type_filter for ${type}, which this export does not include`, `Add ${type} to types, or remove the filter.`, { ...at, span: [0, q] });
    let offset = q + 1;
    for (const part of f.slice(q + 1).split('&')) {
      const eq = part.indexOf('=');
      const param = eq < 0 ? part : part.slice(0, eq);
      if (eq < 1 || eq === part.length - 1) {
        problem('HDC8604', `type_filter: "${part}" is not PARAM=VALUE`, 'Write parameters as name=value joined by &.', { ...at, span: [offset, offset + part.length] });
      } else {
        const c = checkSearchParam(type, param);
        if (!c.ok) problem('HDC8604', `type_filter: ${c.message}`, c.suggestions.length ? `Write ${c.suggestions[0]}.` : `See the ${type} search parameters.`, { ...at, span: [offset, offset + param.length] });
      }
      offset += part.length + 1;
    }
  });

  // elements "id", "Patient.birthDate"
  valuesOf(s.elements).map(String).forEach((e, i) => {
    const dot = e.indexOf('.');
    if (dot < 0) {
      if (!/^[a-z][A-Za-z0-9]*$/.test(e)) problem('HDC8610', `elements: "${e}" is not an element name`, 'Write an element, e.g. "id", or TYPE.element, e.g. "Patient.birthDate".', { setting: 'elements', value: i });
      return;
    }
    const type = e.slice(0, dot);
    if (!isResourceType(type)) return problem('HDC8610', `elements: ${type} is not an R4 resource type`, 'Write TYPE.element, e.g. "Patient.birthDate".', { setting: 'elements', value: i, span: [0, dot] });
    const r = resolveElementPath(type, e.slice(dot + 1));
    if (!r.ok) problem('HDC8610', `elements: ${r.message}`, r.suggestions.length ? `Write ${type}.${r.suggestions[0]}.` : 'Name an element of the type.', { setting: 'elements', value: i, span: [dot + 1, e.length] });
  });

  // since last_success | "instant"
  const since = valuesOf(s.since).map(String);
  if (since.length && (since.length !== 1 || (since[0] !== 'last_success' && !INSTANT.test(since[0]!)))) {
    problem('HDC8606', `bulk ${name}: since takes last_success or an instant with a time zone`, 'Write since last_success, or since "2024-01-01T00:00:00Z".', { setting: 'since', value: 0 });
  }

  // schedule "cron" | every DURATION
  const schedule = valuesOf(s.schedule);
  if (schedule.length) {
    if (schedule[0] === 'every') {
      if (schedule.length !== 2 || typeof schedule[1] !== 'number') problem('HDC8607', `bulk ${name}: every needs a duration`, 'Write schedule every 6h.', { setting: 'schedule', value: 0 });
      else if (schedule[1] < 60_000) problem('HDC8607', `bulk ${name}: exports more often than once a minute`, 'An export takes minutes to prepare: schedule every 1h or longer.', { setting: 'schedule', value: 1 });
    } else if (schedule.length !== 1 || typeof schedule[0] !== 'string') {
      problem('HDC8607', `bulk ${name}: schedule takes a cron expression or every DURATION`, 'Write schedule "0 2 * * *" (UTC) or schedule every 6h.', { setting: 'schedule', value: 0 });
    } else {
      const c = parseCron(schedule[0]);
      if ('error' in c) problem('HDC8607', `bulk ${name}: ${c.error}`, 'Write five fields, minute hour day month weekday, e.g. "0 2 * * *".', { setting: 'schedule', value: 0, span: c.at });
    }
  }

  // on TYPE run WORKFLOW | on deleted run WORKFLOW
  const seen = new Map<string, number>();
  phrases(s.on).forEach((words, i) => {
    const w = words.map(String);
    const at = { setting: 'on', occurrence: i };
    if (w.length !== 3 || w[1] !== 'run') return problem('HDC8605', `bulk ${name}: "on ${w.join(' ')}" is not on TYPE run WORKFLOW`, 'Write on Patient run upsert_patient, or on deleted run forget_resource.', { ...at, value: 0 });
    const type = w[0]!;
    if (seen.has(type)) problem('HDC8605', `bulk ${name}: ${type} is routed twice`, 'Run one workflow per type; it may do several things.', { ...at, value: 0 });
    seen.set(type, i);
    if (type !== 'deleted') {
      const c = checkResourceType(type);
      if (!c.ok) problem('HDC8602', c.message, c.suggestions.length ? `Write ${c.suggestions[0]}.` : 'Name an R4 resource type, or deleted.', { ...at, value: 0 });
      else if (!exported(type)) problem('HDC8605', `bulk ${name}: ${type} is routed but not exported`, `Add ${type} to types.`, { ...at, value: 0 }, 'warning');
    }
    // An unknown workflow is the compiler's HDC2001 (the name is a reference).
  });
  if (!phrases(s.on).length && s.store === undefined) {
    problem('HDC8612', `bulk ${name} neither runs workflows nor keeps files`, 'Add on TYPE run WORKFLOW, or store ndjson "exports/{date}".', {}, 'warning');
  }

  // store ndjson "PATH"
  const store = valuesOf(s.store).map(String);
  if (store.length && (store.length !== 2 || store[0] !== 'ndjson' || !store[1] || store[1].startsWith('/') || store[1].split(/[\\/]/).includes('..'))) {
    problem('HDC8608', `bulk ${name}: store takes ndjson and a relative folder`, 'Write store ndjson "exports/{date}" (inside the data directory).', { setting: 'store', value: 0 });
  }

  if (s.concurrency !== undefined && (typeof s.concurrency !== 'number' || !Number.isInteger(s.concurrency) || s.concurrency < 1 || s.concurrency > 16)) {
    problem('HDC8609', `bulk ${name}: concurrency ${String(s.concurrency)} is not from 1 to 16`, 'Write concurrency 4.', { setting: 'concurrency', value: 0 });
  }

  if (s.patient !== undefined) {
    if (!compartment) problem('HDC8601', `bulk ${name}: patient applies to level patient or group`, 'Remove patient, or export at level patient.', { setting: 'patient', value: 0 });
    else if (s.kickoff !== 'post') problem('HDC8601', `bulk ${name}: patient is sent in a POST kick-off`, 'Add kickoff post.', { setting: 'patient', value: 0 });
    valuesOf(s.patient).map(String).forEach((p, i) => {
      if (!/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(p)) problem('HDC8601', `bulk ${name}: "${p}" is not a Patient reference`, 'Write patient "Patient/123".', { setting: 'patient', value: i });
    });
  }
}
