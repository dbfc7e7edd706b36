// Value maps at run time: input text → output text. An absent input (null, "") stays null (missing
// data stays missing); an input the table does not list gives `else`, or null; a list is mapped
// item by item. Inputs are compared as written (case and spaces matter).
import type { ValueMap } from '../../../plan/plan.types.ts';
import { toText } from './convert.ts';

const tables = new WeakMap<ValueMap, Map<string, string>>();

export function applyValueMap(map: ValueMap, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => applyValueMap(map, v));
  const text = toText(value);
  if (text === null || text === '') return null;
  let table = tables.get(map);
  if (!table) tables.set(map, (table = new Map(map.table)));
  return table.get(text) ?? map.else ?? null;
}
