// Reading settings against their spec (compiler/specs/settings.ts, re-exported here): the value
// checks, and the helpers the lowering uses to read values.
import type { Atom, Setting, StringLit } from '../syntax/ast.ts';
import type { Value } from '../../plan/plan.types.ts';
import type { Reporter } from './reporter.ts';
import { closest } from '../dictionaries/closest.ts';
import { dirname } from 'node:path';
import { isSecretHeader, literalSecretMarker, reportLiteralSecret } from './secrets.ts';
import type { SettingKind, SettingSpec, SettingsSpec } from '../specs/settings.ts';

export * from '../specs/settings.ts';

const atomKinds: Record<SettingKind, string> = {
  string: 'a "string"', strings: 'one or more "strings"', value: 'a "string", env("NAME") or file("path")',
  name: 'a name', enum: 'one of', duration: 'a duration like 10s', number: 'a number', msgtypes: 'message types like ADT^A01',
  positions: 'segments and HL7 paths like PID, PID-3',
  header: '"Header-Name" VALUE',
  words: 'names, strings, numbers or durations',
};

/** Validates a block's settings against its spec; returns the settings by key. */
export function readSettings(settings: Setting[], spec: SettingsSpec, what: string, r: Reporter, anchor: Atom['range']): Map<string, Setting[]> {
  const byKey = new Map<string, Setting[]>();
  for (const s of settings) {
    const key = s.key.name;
    const sp = spec[key];
    if (!sp) {
      const near = closest(key, Object.keys(spec), 1);
      r.error('HDC2005', s.key.range, `unknown setting "${key}" in ${what}`,
        `Known settings: ${Object.keys(spec).join(', ') || 'none'}.`, near.map((n) => ({ replacement: n, range: s.key.range })));
      continue;
    }
    if (byKey.has(key) && !sp.repeatable) {
      r.error('HDC2002', s.key.range, `"${key}" is set twice in ${what}`, 'Keep one.');
      continue;
    }
    if (checkSettingValue(s, sp, r)) byKey.set(key, [...(byKey.get(key) ?? []), s]);
    if (s.block && !sp.block) r.error('HDC2040', s.range, `"${key}" takes no { … } block`, 'Remove the block.');
    if (s.block && sp.block) readSettings(s.block, sp.block, `${key} block`, r, s.range);
  }
  for (const [key, sp] of Object.entries(spec)) {
    if (sp.required && !byKey.has(key)) r.error('HDC2006', anchor, `${what} needs "${key}"`, `Add: ${key} … — ${sp.doc}`);
  }
  return byKey;
}

function checkSettingValue(s: Setting, sp: SettingSpec, r: Reporter): boolean {
  const v = s.values;
  const bad = (detail = sp.doc): false => {
    const expected = sp.kind === 'enum' ? `one of ${sp.options!.join(', ')}` : atomKinds[sp.kind];
    r.error('HDC2041', v[0]?.range ?? s.key.range, `"${s.key.name}" takes ${expected}`, detail);
    return false;
  };
  const isValue = (a: Atom) => a.kind === 'string' || a.kind === 'env' || a.kind === 'file';
  switch (sp.kind) {
    case 'string': if (v.length !== 1 || v[0].kind !== 'string') return bad(); break;
    case 'strings': if (v.length < 1 || v.some((a) => a.kind !== 'string')) return bad(); break;
    case 'value':
      if (v.length < 1 || !isValue(v[0])) return bad();
      if (sp.duration ? v.length > 2 || (v[1] && v[1].kind !== 'duration') : v.length !== 1) return bad();
      if (sp.secret && v[0].kind === 'string') reportLiteralSecret(r, v[0], s.key.name);
      break;
    case 'name': if (v.length !== 1 || v[0].kind !== 'name') return bad(); break;
    case 'enum': {
      const first = v[0];
      const text = first?.kind === 'name' ? first.name : undefined;
      if (!text || !sp.options!.includes(text)) {
        const near = text ? closest(text, sp.options!, 1) : [];
        r.error('HDC2042', first?.range ?? s.key.range, `"${s.key.name}" takes one of ${sp.options!.join(', ')}`, sp.doc,
          first ? near.map((n) => ({ replacement: n, range: first.range })) : []);
        return false;
      }
      if (v.length > (sp.duration ? 2 : 1) || (v[1] && v[1].kind !== 'duration')) return bad();
      break;
    }
    case 'duration': if (v.length !== 1 || v[0].kind !== 'duration') return bad(); break;
    case 'number': if (v.length !== 1 || v[0].kind !== 'number') return bad(); break;
    case 'msgtypes': if (v.length < 1 || v.some((a) => a.kind !== 'msgtype' && a.kind !== 'star')) return bad(); break;
    case 'positions': {
      if (v.length < 1) return bad();
      const wrong = v.find((a) => a.kind !== 'hl7path' && !(a.kind === 'name' && /^[A-Z][A-Z0-9]{2}$/.test(a.name)));
      if (wrong) {
        const text = wrong.kind === 'name' ? wrong.name : wrong.kind === 'string' ? wrong.value : '';
        const fix = /^[A-Za-z][A-Za-z0-9]{2}$/.test(text) ? [{ replacement: text.toUpperCase(), range: wrong.range }] : [];
        r.error('HDC2041', wrong.range, `"${s.key.name}" takes segments and HL7 paths like PID, PID-3`,
          'Write segment IDs (3 characters, A-Z then A-Z or 0-9) and HL7 paths without quotes: require PID, PID-3, OBR-4.1', fix);
        return false;
      }
      break;
    }
    case 'words': if (v.length < 1 || v.some((a) => a.kind === 'env' || a.kind === 'file')) return bad(); break;
    case 'header':
      if (v.length !== 2 || v[0].kind !== 'string' || !isValue(v[1])) return bad();
      if (v[1].kind === 'string' && isSecretHeader(v[0].value)) reportLiteralSecret(r, v[1], `header ${v[0].value}`);
      break;
  }
  return true;
}

/** A deployment value for the plan: literal, env() or file() (relative to the .hdc file's folder). */
export function toValue(a: Atom, file: string, src: (r: Atom['range']) => string): Value {
  switch (a.kind) {
    case 'string': {
      const marker = literalSecretMarker(a);
      return marker ? { env: marker, src: src(a.range) } : a.value;
    }
    case 'env': return a.default ? { env: a.name.value, default: a.default.value, src: src(a.range) } : { env: a.name.value, src: src(a.range) };
    case 'file': return { file: toValue(a.path, file, src), base: dirname(file), src: src(a.range) };
    default: return 'text' in a ? String(a.text) : 'name' in a ? String(a.name) : '';
  }
}

export const settingString = (s: Setting[] | undefined): string | undefined => {
  const a = s?.[0].values[0];
  return a?.kind === 'string' ? a.value : a?.kind === 'name' ? a.name : undefined;
};
export const settingStrings = (s: Setting[] | undefined): string[] =>
  (s?.[0].values ?? []).filter((a): a is StringLit => a.kind === 'string').map((a) => a.value);
export const settingNumber = (s: Setting[] | undefined): number | undefined => {
  const a = s?.[0].values[0];
  return a?.kind === 'number' ? a.value : undefined;
};
export const settingDuration = (s: Setting[] | undefined, index = 0): number | undefined => {
  const a = s?.[0].values[index];
  return a?.kind === 'duration' ? a.ms : undefined;
};
