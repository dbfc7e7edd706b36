// The HL7 path syntax shared by the compiler and `hdc parse`:
//   SEG[rep]-FIELD[rep].COMP.SUB     e.g. PID, OBX[*], PID-3, PID-3[*].4.1, OBX[2]-5.1, MSH-9.2
// SEG is three characters [A-Z][A-Z0-9]{2}; rep is an integer >= 1 or `*`. Every part after SEG is
// optional, left to right. An omitted repetition stays unset (it means the first).
import type { Hl7Path, Rep } from '../../plan/plan.types.ts';

export type Hl7PathResult = { path: Hl7Path } | { error: string; column: number };

function isUpper(c: string): boolean {
  return c >= 'A' && c <= 'Z';
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** Parses `text`; on failure reports the 1-based column of the first offending character. */
export function parseHl7Path(text: string): Hl7PathResult {
  let i = 0;
  const fail = (error: string): Hl7PathResult => ({ error, column: i + 1 });
  const at = (): string => text[i] ?? '';

  const seg = text.slice(0, 3);
  if (seg.length < 3 || !isUpper(seg[0]!) || ![...seg.slice(1)].every((c) => isUpper(c) || isDigit(c))) {
    for (; i < 3 && i < text.length; i++) {
      const c = text[i]!;
      if (!(i === 0 ? isUpper(c) : isUpper(c) || isDigit(c))) break;
    }
    return fail(
      i < text.length
        ? `expected a segment name of 3 characters (A-Z then A-Z or 0-9), found "${text[i]}"`
        : 'expected a segment name of 3 characters, e.g. PID',
    );
  }
  i = 3;
  const path: Hl7Path = { text, segment: seg };

  const number = (): number | undefined => {
    const start = i;
    while (isDigit(at())) i++;
    if (i === start) return undefined;
    const n = Number(text.slice(start, i));
    if (n < 1 || text[start] === '0') {
      i = start;
      return undefined;
    }
    return n;
  };
  const rep = (what: string): Rep | { error: string } => {
    i++; // '['
    let r: Rep;
    if (at() === '*') {
      i++;
      r = '*';
    } else {
      const n = number();
      if (n === undefined) return { error: `expected a ${what} repetition (a number from 1, or *)` };
      r = n;
    }
    if (at() !== ']') return { error: `expected "]" to close the ${what} repetition` };
    i++;
    return r;
  };

  if (at() === '[') {
    const r = rep('segment');
    if (typeof r === 'object') return fail(r.error);
    path.segmentRep = r;
  }
  if (i === text.length) return { path };
  if (at() !== '-') return fail(`expected "-" and a field number after ${seg}, found "${at()}"`);
  i++;
  const field = number();
  if (field === undefined) return fail('expected a field number from 1');
  path.field = field;
  if (at() === '[') {
    const r = rep('field');
    if (typeof r === 'object') return fail(r.error);
    path.fieldRep = r;
  }
  for (const part of ['component', 'subcomponent'] as const) {
    if (i === text.length) return { path };
    if (at() !== '.') return fail(`expected "." and a ${part} number, found "${at()}"`);
    i++;
    const n = number();
    if (n === undefined) return fail(`expected a ${part} number from 1`);
    path[part] = n;
  }
  if (i < text.length) return fail(`unexpected "${at()}" after the subcomponent`);
  return { path };
}

/** True when reading `path` yields a list (a `*` repetition appears in it). */
export function isListPath(path: Hl7Path): boolean {
  return path.segmentRep === '*' || path.fieldRep === '*';
}
