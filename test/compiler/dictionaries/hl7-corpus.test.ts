// Checks every populated position of 132 real HL7 v2 messages against the version each declares
// (MSH-12). Senders often mislabel versions, so the expectation is not "no findings" but: what
// the dictionary calls an error is rare and real, and 2.8 messages (checked against 2.7.1) never
// get more than warnings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hl7Path } from '../../../plan/plan.types.ts';
import * as hl7 from '../../../compiler/dictionaries/hl7.ts';
import { hl7CorpusDir } from '../../corpus.ts';

const dir = hl7CorpusDir();

interface Message { file: string; version: string; type: string; trigger: string; segments: string[][]; delimiters: { component: string; repetition: string; subcomponent: string } }

function load(): Message[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.hl7'))
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8').replace(/^\uFEFF/, '');
      const lines = text.split(/\r\n|\r|\n/).filter((l) => l.length > 0);
      const msh = lines[0]!;
      const fieldSep = msh[3]!;
      const [component, repetition, , subcomponent] = msh.slice(4, 8);
      const segments = lines.map((l) => l.split(fieldSep));
      const header = segments[0]!;
      // Splitting MSH on | puts MSH-n at index n - 1.
      const [type = '', trigger = ''] = (header[8] ?? '').split(component!);
      return { file, version: (header[11] ?? '').split(component!)[0]!, type, trigger, segments, delimiters: { component: component!, repetition: repetition!, subcomponent: subcomponent! } };
    });
}

/** Every populated field, component and subcomponent as a path, with its repetition. */
function* populated(m: Message): Generator<Hl7Path> {
  const { component, repetition, subcomponent } = m.delimiters;
  for (const fields of m.segments) {
    const segment = fields[0]!;
    if (!/^[A-Z][A-Z0-9]{2}$/.test(segment)) continue;
    const shift = segment === 'MSH' ? 1 : 0;
    for (let i = 1; i < fields.length; i++) {
      const field = i + shift;
      if (!fields[i] || (segment === 'MSH' && field === 2)) continue;
      const reps = fields[i]!.split(repetition);
      for (let r = 0; r < reps.length; r++) {
        const comps = reps[r]!.split(component);
        for (let c = 0; c < comps.length; c++) {
          const subs = comps[c]!.split(subcomponent);
          for (let s = 0; s < subs.length; s++) {
            if (!subs[s]) continue;
            const path: Hl7Path = { text: '', segment, field, fieldRep: r + 1 };
            if (comps.length > 1) path.component = c + 1;
            if (subs.length > 1) path.subcomponent = s + 1;
            path.text = hl7.pathText(path);
            yield path;
          }
        }
      }
    }
  }
}

const messages = load();

test('the corpus declares versions the dictionary knows', () => {
  assert.is(messages.length, 132);
  for (const m of messages) assert.ok(hl7.resolveHl7Version(m.version), `${m.file}: ${m.version}`);
  assert.ok(messages.filter((m) => m.version === '2.8').length > 100);
});

test('every populated position checks out; errors are rare and 2.8 only ever warns', () => {
  let ok = 0, warnings = 0, errors = 0;
  const errorsByVersion = new Map<string, number>();
  for (const m of messages) {
    for (const path of populated(m)) {
      const r = hl7.checkHl7Path(m.version, path);
      if (r.ok) ok++;
      else if (r.warning) warnings++;
      else {
        errors++;
        errorsByVersion.set(m.version, (errorsByVersion.get(m.version) ?? 0) + 1);
        assert.ok(m.version !== '2.8', `${m.file} ${path.text}: ${r.message}`);
      }
    }
  }
  const total = ok + warnings + errors;
  assert.ok(total > 50_000, `${total} positions`);
  assert.ok(ok / total > 0.95, `ok ${ok} of ${total}`);
  assert.ok(errors / total < 0.02, `errors ${errors} of ${total}: ${JSON.stringify([...errorsByVersion])}`);
});

test('what the dictionary flags in the corpus is real: PRT (a 2.7 segment) in messages labelled 2.5.1', () => {
  const labelled251 = messages.filter((m) => m.version === '2.5.1' && m.segments.some((s) => s[0] === 'PRT'));
  assert.ok(labelled251.length > 0);
  for (const m of labelled251) {
    const r = hl7.checkHl7Path(m.version, { text: 'PRT-1', segment: 'PRT', field: 1 });
    assert.ok(!r.ok && r.part === 'segment' && !r.warning, m.file);
    assert.ok(hl7.checkHl7Path('2.7.1', { text: 'PRT-1', segment: 'PRT', field: 1 }).ok);
  }
});

test('every MSH-9 type and trigger is known, and the defined ones have a structure', () => {
  let structures = 0;
  for (const m of messages) {
    assert.ok(hl7.messageTypeKnown(m.version, m.type), `${m.file}: ${m.type}`);
    if (m.trigger) assert.ok(hl7.triggerKnown(m.version, m.trigger), `${m.file}: ${m.trigger}`);
    if (hl7.messageTypeStatus(m.version, m.type) === 'defined' && m.trigger) {
      const s = hl7.messageStructure(m.version, `${m.type}^${m.trigger}`);
      if (s) {
        structures++;
        assert.is(s.segments[0], 'MSH', m.file);
      }
    }
  }
  assert.ok(structures > 100, `${structures} structures`);
});

test.run();
