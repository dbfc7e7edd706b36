// The ER7 parser. Parsing only locates segments and reads MSH; fields, repetitions, components
// and subcomponents are split on demand and cached per segment, so reading MSH and a handful of
// mapped fields never builds the full tree. The raw text is kept verbatim: serialize(parse(x)) === x.
//
// Values read through get() are values, never ER7 text: no unescaped delimiter ever comes out.
// - a position reads as its first leaf, decoded: a path that stops at a field reads its first
//   component, one that stops at a component its first subcomponent (as HAPI's terser does:
//   PID-5 of `DOE&VAN^JOHN` is "DOE", PID-5.1.2 is "VAN");
// - an empty position and `""` (explicit null) read as null; written() and toJSON() keep them
//   apart ('' vs '""');
// - a path without a field reads the segment ID when the segment is present (a presence test);
// - MSH-1 and MSH-2 read as the delimiters the message declares;
// - an omitted repetition means the first; a `*` repetition yields one entry per repetition
//   (per segment for SEG[*], flattened in message order when both are `*`).
import type { Hl7Path, Rep } from '../../../plan/plan.types.ts';
import { encodingCharsOf, type Delimiters } from './delimiters.ts';
import { Hl7ParseError } from './errors.ts';
import { unescapeHl7 } from './escape.ts';
import type { Hl7Header } from './header.ts';

export type Hl7Value = string | null;
/** The position inside a segment: everything in an Hl7Path after the segment. */
export type Hl7FieldPath = Pick<Hl7Path, 'field' | 'fieldRep' | 'component' | 'subcomponent'>;

/** Nth (1-based) piece of text split on sep, or undefined when there are fewer pieces. */
function piece(text: string, sep: string, n: number): string | undefined {
  let start = 0;
  for (let k = 1; k < n; k++) {
    const j = text.indexOf(sep, start);
    if (j < 0) return undefined;
    start = j + 1;
  }
  const end = text.indexOf(sep, start);
  return end < 0 ? (start === 0 ? text : text.slice(start)) : text.slice(start, end);
}

/** Start of the nth (1-based) piece of text[from, to) split on sep, or -1 when there are fewer pieces. */
function pieceStart(text: string, sep: string, n: number, from: number, to: number): number {
  let start = from;
  for (let k = 1; k < n; k++) {
    const j = text.indexOf(sep, start);
    if (j < 0 || j >= to) return -1;
    start = j + 1;
  }
  return start;
}

/** End of the piece of text[.., to) that starts at `start`. */
function pieceEnd(text: string, sep: string, start: number, to: number): number {
  const j = text.indexOf(sep, start);
  return j < 0 || j > to ? to : j;
}

/** text.split(sep), without the split machinery when sep does not occur. */
function splitOn(text: string, sep: string): string[] {
  return text.indexOf(sep) < 0 ? [text] : text.split(sep);
}

function leaf(text: string, d: Delimiters): Hl7Value {
  if (text === '' || text === '""') return null;
  return unescapeHl7(text, d);
}

/** One repetition of a field: the unit `where` filters and `select` read components from. */
export class Hl7Repetition {
  constructor(
    /** ER7 text as written. */
    readonly text: string,
    private readonly d: Delimiters,
  ) {}

  /** Decoded first leaf of the repetition, a component, or a subcomponent (see the file comment). */
  value(component?: number, subcomponent?: number): Hl7Value {
    const c = piece(this.text, this.d.component, component ?? 1);
    if (c === undefined) return null;
    return leaf(piece(c, this.d.subcomponent, subcomponent ?? 1) ?? '', this.d);
  }

  /** The text as written at that position (escapes kept); null when absent or empty. */
  raw(component?: number, subcomponent?: number): Hl7Value {
    let t: string | undefined = this.text;
    if (component !== undefined) t = piece(t, this.d.component, component);
    if (t !== undefined && subcomponent !== undefined) t = piece(t, this.d.subcomponent, subcomponent);
    return t === undefined || t === '' ? null : t;
  }
}

export type Hl7Tree = {
  delimiters: Delimiters;
  segments: { name: string; fields: Record<string, Hl7Value[][][]> }[];
};

export class Hl7Segment {
  /** ends[k]: where field k (0 = the name) ends, found on demand: no substring is made for fields nobody reads. */
  private readonly ends: number[] = [];

  constructor(
    /** The segment's text as written, without its terminator. */
    readonly raw: string,
    readonly name: string,
    /** 0-based position among the message's segments. */
    readonly index: number,
    /** 1-based line of the segment in the message text. */
    readonly line: number,
    private readonly d: Delimiters,
  ) {}

  /** End offset of field k as written (k counts separators), or -1 when the segment stops before it. */
  private endOf(k: number): number {
    const ends = this.ends;
    const raw = this.raw;
    while (ends.length <= k) {
      const last = ends.length ? ends[ends.length - 1]! : -1;
      if (last === raw.length) return -1;
      const j = raw.indexOf(this.d.field, last + 1);
      ends.push(j < 0 ? raw.length : j);
    }
    return ends[k]!;
  }

  /** Highest field number present (MSH counts MSH-1). */
  get fieldCount(): number {
    let k = this.ends.length;
    while (this.endOf(k) >= 0) k++;
    const n = k - 1;
    return this.name === 'MSH' ? n + 1 : n;
  }

  /** Field n as written (all repetitions); '' when absent. MSH-1 and MSH-2 are the delimiters. */
  fieldText(n: number): string {
    const msh = this.name === 'MSH';
    if (msh && n === 1) return this.d.field;
    const k = msh ? n - 1 : n;
    const end = this.endOf(k);
    if (end < 0) return '';
    const start = k === 0 ? 0 : this.ends[k - 1]! + 1;
    return start === 0 && end === this.raw.length ? this.raw : this.raw.slice(start, end);
  }

  /** The repetitions of field n (MSH-1 and MSH-2 are never split). */
  fieldRepetitions(n: number): Hl7Repetition[] {
    const text = this.fieldText(n);
    if (this.name === 'MSH' && n <= 2) return [new Hl7Repetition(text, this.d)];
    if (text === '') return [];
    return text.split(this.d.repetition).map((t) => new Hl7Repetition(t, this.d));
  }

  /** The repetitions a path selects inside this segment (default: the first). */
  repetitions(path: Hl7FieldPath): Hl7Repetition[] {
    if (path.field === undefined) return [];
    const all = this.fieldRepetitions(path.field);
    if (path.fieldRep === '*') return all;
    const r = all[(path.fieldRep ?? 1) - 1];
    return r ? [r] : [];
  }

  /** Reads a position of this segment: a list when the field repetition is `*`. */
  get(path: Hl7FieldPath): Hl7Value | Hl7Value[] {
    if (path.fieldRep === '*') {
      return this.repetitions(path).map((r) => r.value(path.component, path.subcomponent));
    }
    return this.value(path);
  }

  /** Reads one position (a `*` repetition is taken as the first): its first leaf, decoded. */
  value(path: Hl7FieldPath): Hl7Value {
    if (path.field === undefined) return this.name;
    if (this.name === 'MSH' && path.field <= 2) return this.delimiterField(path);
    const t = this.leafText(path);
    return t === undefined ? null : leaf(t, this.d);
  }

  /**
   * The text of the leaf a position reads, as written (escapes kept, `""` as is): undefined when
   * the segment stops before it. A path without a field gives the segment ID.
   */
  written(path: Hl7FieldPath): string | undefined {
    if (path.field === undefined) return this.name;
    if (this.name === 'MSH' && path.field <= 2) return this.delimiterField(path) ?? undefined;
    return this.leafText(path);
  }

  /** MSH-1 and MSH-2 are the delimiters themselves: never split. */
  private delimiterField(path: Hl7FieldPath): Hl7Value {
    const first = (path.fieldRep === undefined || path.fieldRep === '*' || path.fieldRep === 1) &&
      (path.component ?? 1) === 1 && (path.subcomponent ?? 1) === 1;
    return first ? this.fieldText(path.field!) : null;
  }

  /**
   * True when the position holds data: something other than delimiters and `""`. A path without a
   * field asks whether the segment is there (it is: this is it).
   */
  holdsData(path: Hl7FieldPath): boolean {
    if (path.field === undefined) return true;
    const t = this.leafText(path, false);
    if (t === undefined || t === '' || t === '""') return false;
    const d = this.d;
    for (let i = 0; i < t.length; i++) {
      const c = t[i];
      if (c !== d.component && c !== d.subcomponent && c !== d.repetition && c !== '"') return true;
    }
    return false;
  }

  /**
   * Narrows [a, b) within the field's text down to the position — to its first leaf unless
   * `toLeaf` is false — then cuts once.
   */
  private leafText(path: Hl7FieldPath, toLeaf = true): string | undefined {
    const d = this.d;
    const text = this.fieldText(path.field!);
    const rep = path.fieldRep === undefined || path.fieldRep === '*' ? 1 : path.fieldRep;
    let a = pieceStart(text, d.repetition, rep, 0, text.length);
    if (a < 0) return undefined;
    let b = pieceEnd(text, d.repetition, a, text.length);
    if (toLeaf || path.component !== undefined) {
      a = pieceStart(text, d.component, path.component ?? 1, a, b);
      if (a < 0) return undefined;
      b = pieceEnd(text, d.component, a, b);
      if (toLeaf || path.subcomponent !== undefined) {
        a = pieceStart(text, d.subcomponent, path.subcomponent ?? 1, a, b);
        if (a < 0) return undefined;
        b = pieceEnd(text, d.subcomponent, a, b);
      }
    }
    return a === 0 && b === text.length ? text : text.slice(a, b);
  }

  /** Full decomposition: field number → repetitions → components → subcomponents (empty fields omitted). */
  toJSON(): { name: string; fields: Record<string, Hl7Value[][][]> } {
    const d = this.d;
    const fields: Record<string, Hl7Value[][][]> = {};
    for (let n = 1; n <= this.fieldCount; n++) {
      const text = this.fieldText(n);
      if (text === '') continue;
      if (this.name === 'MSH' && n <= 2) {
        fields[n] = [[[text]]];
        continue;
      }
      const reps = splitOn(text, d.repetition);
      const field: Hl7Value[][][] = new Array(reps.length);
      for (let r = 0; r < reps.length; r++) {
        const comps = splitOn(reps[r]!, d.component);
        const rep: Hl7Value[][] = new Array(comps.length);
        for (let c = 0; c < comps.length; c++) {
          const subs: Hl7Value[] = splitOn(comps[c]!, d.subcomponent);
          for (let k = 0; k < subs.length; k++) subs[k] = subs[k] === '""' ? null : unescapeHl7(subs[k]!, d);
          rep[c] = subs;
        }
        field[r] = rep;
      }
      fields[n] = field;
    }
    return { name: this.name, fields };
  }
}

export class Hl7Message {
  private readonly cache: (Hl7Segment | undefined)[];

  constructor(
    /** The message text as received (CR-separated segments). */
    readonly raw: string,
    readonly delimiters: Delimiters,
    readonly header: Hl7Header,
    private readonly starts: number[],
    private readonly ends: number[],
    private readonly names: string[],
    private readonly lines: number[],
    msh: Hl7Segment,
    /** The first segment whose ID is not [A-Z][A-Z0-9]{2} followed by the field separator. */
    readonly invalidSegment?: { index: number; line: number; text: string },
  ) {
    this.cache = new Array(starts.length);
    this.cache[0] = msh;
  }

  get segmentCount(): number {
    return this.starts.length;
  }

  /** The segment at a 0-based position. */
  segment(index: number): Hl7Segment | undefined {
    if (index < 0 || index >= this.starts.length) return undefined;
    return (this.cache[index] ??= new Hl7Segment(
      this.raw.slice(this.starts[index], this.ends[index]),
      this.names[index]!,
      index,
      this.lines[index]!,
      this.delimiters,
    ));
  }

  /** Segment names in order. */
  segmentNames(): readonly string[] {
    return this.names;
  }

  private indexesOf(name: string): number[] {
    const out: number[] = [];
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === name) out.push(i);
    return out;
  }

  /** Every segment with this name, in message order (all segments when no name is given). */
  segments(name?: string): Hl7Segment[] {
    const idx = name === undefined ? this.names.map((_, i) => i) : this.indexesOf(name);
    return idx.map((i) => this.segment(i)!);
  }

  /** The segments a path's segment part selects (default: the first of that name). */
  selectSegments(segment: string, segmentRep?: Rep): Hl7Segment[] {
    if (segmentRep === '*') return this.indexesOf(segment).map((i) => this.segment(i)!);
    const s = this.nth(segment, segmentRep ?? 1);
    return s ? [s] : [];
  }

  /** The nth (1-based) segment with this name. */
  private nth(name: string, n: number): Hl7Segment | undefined {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === name && --n === 0) return this.segment(i);
    return undefined;
  }

  /**
   * The decoded value at a path: string | null for one position, a list when a `*` repetition
   * appears (one entry per repetition, flattened in message order). See the file comment.
   */
  get(path: Hl7Path): Hl7Value | Hl7Value[] {
    if (path.segmentRep !== '*' && path.fieldRep !== '*') {
      return this.nth(path.segment, path.segmentRep ?? 1)?.value(path) ?? null;
    }
    const segs = this.selectSegments(path.segment, path.segmentRep);
    const out: Hl7Value[] = [];
    for (const s of segs) {
      const v = s.get(path);
      if (Array.isArray(v)) out.push(...v);
      else out.push(v);
    }
    return out;
  }

  /** The text of the leaf one position reads, as written (see Hl7Segment.written); undefined when absent. */
  written(path: Hl7Path): string | undefined {
    return this.nth(path.segment, path.segmentRep === '*' ? 1 : path.segmentRep ?? 1)?.written(path);
  }

  /** The segment a path names is there and, when the path names a position, that position holds data. */
  holdsData(path: Hl7Path): boolean {
    const seg = this.nth(path.segment, path.segmentRep === '*' ? 1 : path.segmentRep ?? 1);
    return seg !== undefined && seg.holdsData(path);
  }

  /** The field repetitions a path covers, for where/select in field mappings. */
  repetitions(path: Hl7Path): Hl7Repetition[] {
    const out: Hl7Repetition[] = [];
    for (const s of this.selectSegments(path.segment, path.segmentRep)) out.push(...s.repetitions(path));
    return out;
  }

  /** The full tree, decoded, for display (`hdc parse`). */
  toJSON(): Hl7Tree {
    const segments = [];
    for (let i = 0; i < this.starts.length; i++) segments.push(this.segment(i)!.toJSON());
    return { delimiters: this.delimiters, segments };
  }
}

function isDelimiterChar(c: string): boolean {
  return !/[A-Za-z0-9\s]/.test(c);
}

/** [A-Z][A-Z0-9]{2} at text[at]. */
function isSegmentId(text: string, at: number): boolean {
  const a = text.charCodeAt(at);
  if (a < 0x41 || a > 0x5a) return false;
  for (let k = 1; k < 3; k++) {
    const c = text.charCodeAt(at + k);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}

function isBlankText(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) > 0x20) return false;
  return true;
}

/**
 * MSH-2 as the 4 (or 5, with the v2.7 truncation character) encoding characters, accepting the
 * de-facto variants real senders write: the escape character doubled (`^~\\&`, from senders
 * that escape the backslash once too often) and no escape character at all (`^~&`), which reads
 * as component, repetition, subcomponent with escapes off ('' as the escape character).
 */
function encodingCharacters(written: string, field: string): Delimiters {
  let enc = written;
  if ((enc.length === 5 || enc.length === 6) && enc[2] === '\\' && enc[3] === '\\') enc = enc.slice(0, 3) + enc.slice(4);
  if (enc.length === 3 && enc[2] === '&' && isDelimiterChar(enc[0]!) && isDelimiterChar(enc[1]!)) {
    if (enc[0] === enc[1] || enc[0] === field || enc[1] === field) {
      throw new Hl7ParseError(`MSH-2: "${enc}" repeats a delimiter`, 1, 5, 'MSH');
    }
    return { field, component: enc[0]!, repetition: enc[1]!, escape: '', subcomponent: '&' };
  }
  if (enc.length < 4 || enc.length > 5) {
    throw new Hl7ParseError(
      `MSH-2 must hold 4 encoding characters (5 from v2.7 with the truncation character), found "${written}"`,
      1, 5, 'MSH',
    );
  }
  for (let k = 0; k < enc.length; k++) {
    const c = enc[k]!;
    if (!isDelimiterChar(c) || c === field || enc.indexOf(c) !== k) {
      throw new Hl7ParseError(`MSH-2: "${c}" cannot be an encoding character here`, 1, 5 + written.indexOf(c, k), 'MSH');
    }
  }
  const d: Delimiters = { field, component: enc[0]!, repetition: enc[1]!, escape: enc[2]!, subcomponent: enc[3]! };
  if (enc.length === 5) d.truncation = enc[4];
  return d;
}

/** A decoded MSH position for the header; '' when absent. */
function mshValue(msh: Hl7Segment, field: number, component?: number): string {
  return msh.value({ field, component }) ?? '';
}

/**
 * Parses one message whose segments are separated by CR (see splitBatch for other line endings).
 * Throws Hl7ParseError only when the text cannot be HL7: no MSH first, or unusable delimiters.
 */
export function parseMessage(text: string): Hl7Message {
  if (text.trim() === '') throw new Hl7ParseError('empty message', 1, 1);
  if (!text.startsWith('MSH')) {
    const head = text.slice(0, 3);
    const hint = head === 'FHS' || head === 'BHS' ? ' (a batch: split it first)' : '';
    throw new Hl7ParseError(`expected the message to start with an MSH segment, found "${head.replace(/[\r\n]/g, ' ')}"${hint}`, 1, 1);
  }
  let mshEnd = text.indexOf('\r');
  if (mshEnd < 0) mshEnd = text.length;
  const mshText = text.slice(0, mshEnd);
  if (mshText.length < 8) {
    throw new Hl7ParseError('MSH segment too short to carry the field separator and encoding characters', 1, mshText.length + 1, 'MSH');
  }
  const field = mshText[3]!;
  if (!isDelimiterChar(field)) {
    throw new Hl7ParseError(`MSH-1: "${field}" cannot be a field separator`, 1, 4, 'MSH');
  }
  let encEnd = mshText.indexOf(field, 4);
  if (encEnd < 0) encEnd = mshText.length;
  const delimiters = encodingCharacters(mshText.slice(4, encEnd), field);

  // Locate segments; empty lines (consecutive CRs, a trailing CR, blanks) are kept in raw but
  // are not segments.
  const starts: number[] = [];
  const ends: number[] = [];
  const names: string[] = [];
  const lines: number[] = [];
  let invalid: { index: number; line: number; text: string } | undefined;
  let line = 1;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\r', start);
    if (end < 0) end = text.length;
    if (end > start) {
      let nameEnd = start + 3;
      if (nameEnd < end && text[nameEnd] !== field) {
        nameEnd = text.indexOf(field, start);
        if (nameEnd < 0 || nameEnd > end) nameEnd = end;
      } else if (nameEnd > end) nameEnd = end;
      const valid = nameEnd - start === 3 && isSegmentId(text, start);
      if (valid || !isBlankText(text, start, end)) {
        if (!valid && !invalid) invalid = { index: starts.length, line, text: text.slice(start, Math.min(nameEnd, start + 20)) };
        starts.push(start);
        ends.push(end);
        lines.push(line);
        names.push(text.slice(start, nameEnd));
      }
    }
    line++;
    start = end + 1;
  }

  const msh = new Hl7Segment(mshText, 'MSH', 0, 1, delimiters);
  const header: Hl7Header = {
    fieldSep: field,
    // Normalised (a doubled escape collapsed, a missing one restored): an ACK reuses these.
    encodingChars: encEnd === 8 && delimiters.escape === mshText[6] ? mshText.slice(4, 8) : encodingCharsOf(delimiters.escape ? delimiters : { ...delimiters, escape: '\\' }),
    sendingApplication: msh.fieldText(3),
    sendingFacility: msh.fieldText(4),
    receivingApplication: msh.fieldText(5),
    receivingFacility: msh.fieldText(6),
    timestamp: msh.fieldText(7),
    messageCode: mshValue(msh, 9, 1),
    triggerEvent: mshValue(msh, 9, 2),
    messageStructure: mshValue(msh, 9, 3),
    controlId: mshValue(msh, 10),
    processingId: mshValue(msh, 11, 1),
    processingMode: mshValue(msh, 11, 2),
    version: mshValue(msh, 12, 1),
    acceptAckType: mshValue(msh, 15),
    appAckType: mshValue(msh, 16),
    charset: mshValue(msh, 18),
  };
  return new Hl7Message(text, delimiters, header, starts, ends, names, lines, msh, invalid);
}

/** The message text, exactly as parsed. */
export function serialize(msg: Hl7Message): string {
  return msg.raw;
}
