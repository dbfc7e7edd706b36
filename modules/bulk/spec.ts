// What the Bulk FHIR module adds to the language: the `bulk` block, an export (Bulk Data Access
// IG, `$export`) from a FHIR API whose resources run workflows. Data only: the compiler reads it
// for checking, completion, hover, `hdc explain` and the reference docs; the block lowers into
// plan.modules.bulk.NAME (the shape is plan.schema.json beside this file).
import type { SettingsSpec } from '../../compiler/specs/settings.ts';
import type { ModuleSpec } from '../../compiler/specs/module-spec.ts';
import { resourceType, resourceTypes, searchParam } from '../../compiler/dictionaries/fhir.ts';

/** Hover for a resource type written as a value. */
const typeDoc = (name: string): string | undefined => {
  const r = resourceType(name);
  return r ? `**${name}** (FHIR R4 resource) — ${r.description}` : undefined;
};

/** Hover for a `_typeFilter` query: its type and each parameter's definition. */
const filterDoc = (query: string): string | undefined => {
  const q = query.indexOf('?');
  const type = q < 0 ? query : query.slice(0, q);
  const head = typeDoc(type);
  if (!head || q < 0) return head;
  const params = query.slice(q + 1).split('&').map((p) => p.split('=')[0]!.split(/[:.]/)[0]!).filter(Boolean);
  const rows = params.map((p) => {
    const info = searchParam(type, p);
    return info ? `- \`${p}\` (${info.type}) — ${info.description}` : `- \`${p}\` — not a search parameter of ${type}`;
  });
  return [head, ...rows].join('\n');
};
import { checkBulk } from './checks.ts';

const settings: SettingsSpec = {
  level: {
    kind: 'words', required: true,
    doc: 'What is exported: `system` (everything the client may read, `[base]/$export`), `patient` (all patients\' compartments, `[base]/Patient/$export`) or `group "ID"` (the members of a Group, `[base]/Group/ID/$export`).',
    suggest: (before) => (before.length === 0 ? { words: ['system', 'patient', 'group'] } : {}),
  },
  types: {
    kind: 'words',
    doc: 'The resource types to export (`_type`), e.g. `types Patient, Encounter, Observation`; at patient and group level, types of the Patient compartment. Default: all the server offers.',
    suggest: () => ({ words: resourceTypes() }),
    describe: typeDoc,
  },
  type_filter: {
    kind: 'strings',
    doc: 'Search queries that narrow a type (`_typeFilter`), checked against the type\'s R4 search parameters: `type_filter "Observation?category=laboratory", "Condition?clinical-status=active"`.',
    describe: filterDoc,
  },
  elements: {
    kind: 'strings',
    doc: 'Only these elements (`_elements`): `elements "id", "Patient.birthDate"` (mandatory elements are always included).',
  },
  since: {
    kind: 'words',
    doc: 'Only resources changed since (`_since`): `last_success` (the transactionTime of the last export that finished, so each run is incremental) or an instant, `"2024-01-01T00:00:00Z"`.',
    suggest: (before) => (before.length === 0 ? { words: ['last_success'] } : {}),
  },
  schedule: {
    kind: 'words',
    doc: 'When exports start by themselves: a cron expression in UTC, `schedule "0 2 * * *"`, or an interval, `schedule every 6h`. Without it, only `hdc bulk start NAME` starts one.',
    suggest: (before) => (before.length === 0 ? { words: ['every'] } : {}),
  },
  on: {
    kind: 'words', repeatable: true,
    doc: 'The workflow each resource of a type runs, once per resource (`resource` and `bulk` are its inputs): `on Patient run upsert_patient`. `on deleted run W`: the resources the server reports deleted (`bulk.deleted` is true; `resource` holds their type and id).',
    suggest: (before) => (before.length === 0 ? { words: ['deleted', ...resourceTypes()] } : before.length === 1 ? { words: ['run'] } : before.length === 2 ? { declarations: 'workflow' } : {}),
    describe: (value, before) => (before.length === 0 ? typeDoc(value) : undefined),
  },
  store: {
    kind: 'words',
    doc: 'Also keep the downloaded files: `store ndjson "exports/{date}"` (relative to the data directory; `{date}` is the export\'s day, `{name}` the block\'s name).',
    suggest: (before) => (before.length === 0 ? { words: ['ndjson'] } : {}),
  },
  concurrency: { kind: 'number', doc: 'Files downloaded at once (default 4, at most 16).' },
  kickoff: { kind: 'enum', options: ['get', 'post'], doc: 'How the export is requested: `get` with query parameters (default) or `post` with a `Parameters` body (needed for `patient`).' },
  patient: { kind: 'strings', doc: 'Only these patients (`patient`, patient and group level, sent with `kickoff post`): `patient "Patient/123", "Patient/456"`.' },
  include_associated_data: { kind: 'strings', doc: '`includeAssociatedData`, e.g. "LatestProvenanceResources".' },
  output_format: { kind: 'string', doc: '`_outputFormat` (default "application/fhir+ndjson").' },
};

export const spec: ModuleSpec = {
  name: 'bulk',
  declarations: [
    {
      keyword: 'bulk', name: 'required', from: 'api', fromRequired: true, settings,
      runs: {
        setting: 'on',
        inputs: {
          resource: { type: 'record', doc: 'The exported resource (for `on deleted`: its resourceType and id).' },
          bulk: { type: 'record', keys: ['name', 'export', 'file', 'line', 'type', 'deleted', 'transactionTime'], doc: 'Where it came from: the block, the export, the file, the line, the type.' },
        },
      },
      doc: 'A Bulk FHIR export (`$export`) from a FHIR API: kicked off on a schedule or with `hdc bulk start`, polled, downloaded in parallel and resumed after a restart; each resource runs its workflow once.',
    },
  ],
  check(blocks, context) {
    try {
      return checkBulk(blocks, context);
    } catch {
      // Blocks broken enough to defeat the reading have errors of their own already.
      return [];
    }
  },
};
