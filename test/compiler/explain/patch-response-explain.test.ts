// `hdc explain` shows what a patch sets and what a REST step's response must hold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { compileSources } from '../../../compiler/api.ts';
import { explainPlan } from '../../../compiler/explain/explain.ts';

const root = new URL('../../..', import.meta.url).pathname;
const explainCase = (name: string): string => {
  const file = `test/compiler/cases/${name}.hdc`;
  const { plan } = compileSources(new Map([[file, readFileSync(root + file, 'utf8')]]));
  assert.ok(plan, name);
  return explainPlan(plan!);
};

test('patch steps list the elements they set, by id or by search', () => {
  const text = explainCase('fhir-patch');
  assert.ok(text.includes('`updated = FHIR patch Patient on ehr, id found.entry[0].resource.id, JSON Patch setting telecom = [{ system: "phone", value: phone }], address = [{ city: city }], deceasedBoolean = false`'), text);
  assert.ok(text.includes('`FHIR conditional_patch Patient on ehr, if matching { identifier: "urn:acme:mrn|{mrn}" }, JSON Patch setting telecom'), text);
  assert.ok(text.includes('JSON Patch setting the elements of changes'), text);
});

test('REST steps show their declared response and APIs their format', () => {
  const text = explainCase('response-shape');
  assert.ok(text.includes('response { total = data.count as number, items = data.results[*], first = data.results[0].id as string (optional), open = each data.results { id = id as string, start = start as datetime, room = location.room (optional) } }'), text);
  assert.ok(text.includes('raw = $ as record'), text);
  assert.match(text, /`legacy` \| REST .*responses read as xml/);
});

test.run();
