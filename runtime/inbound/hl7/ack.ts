// ACKs per HL7 v2 chapter 2. The ACK reuses the inbound delimiters, so MSH-3..6 are copied as
// written; any text we add is escaped with those delimiters. Segments end with CR.
//
// Acknowledgment mode: original when MSH-15 and MSH-16 are both empty (AA/AE/AR), enhanced
// otherwise (commit ACK CA/CE/CR governed by MSH-15, application ACK AA/AE/AR by MSH-16).
// HTTP carries exactly one response per request, so the listener always answers, whatever
// MSH-15 says: in enhanced mode the answer is the commit ACK (CA once the message is durably
// journaled, CE/CR otherwise) even for NE/ER/SU — an empty HTTP body would leave the sender
// unable to tell "accepted, no ACK wanted" from a lost response. `ackWanted` reports what
// MSH-15/16 asked for, for logging and for transports that can stay silent.
import { randomBytes } from 'node:crypto';
import { delimitersFrom } from './delimiters.ts';
import { escapeHl7 } from './escape.ts';
import type { Hl7Header } from './header.ts';

export type AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';
export type AckCondition = 'AL' | 'NE' | 'ER' | 'SU';

export interface AckErrorLocation {
  segment: string;
  sequence?: number;
  field?: number;
  repetition?: number;
  component?: number;
  subcomponent?: number;
}

export interface AckError {
  /** HL7 table 0357. */
  code: number;
  text?: string;
  location?: AckErrorLocation;
  severity?: 'E' | 'W' | 'I';
}

export interface AckOutcome {
  code: AckCode;
  /** Free text for the sender: MSA-3 before v2.5, ERR-8 (user message) from v2.5. */
  text?: string;
  error?: AckError;
}

/** HL7 table 0357 texts. */
export const errorCodeText: Readonly<Record<number, string>> = {
  0: 'Message accepted',
  100: 'Segment sequence error',
  101: 'Required field missing',
  102: 'Data type error',
  103: 'Table value not found',
  200: 'Unsupported message type',
  201: 'Unsupported event code',
  202: 'Unsupported processing id',
  203: 'Unsupported version id',
  204: 'Unknown key identifier',
  205: 'Duplicate key identifier',
  206: 'Application record locked',
  207: 'Application internal error',
};

/** MSH-9.1 is ACK: never acknowledge an acknowledgment. */
export function isAck(header: Pick<Hl7Header, 'messageCode'>): boolean {
  return header.messageCode.toUpperCase() === 'ACK';
}

function condition(v: string): AckCondition | undefined {
  const u = v.trim().toUpperCase();
  return u === 'AL' || u === 'NE' || u === 'ER' || u === 'SU' ? u : undefined;
}

export interface AckMode {
  mode: 'original' | 'enhanced';
  commit?: AckCondition;
  application?: AckCondition;
}

export function ackModeFor(header: Pick<Hl7Header, 'acceptAckType' | 'appAckType'>): AckMode {
  if (header.acceptAckType.trim() === '' && header.appAckType.trim() === '') return { mode: 'original' };
  const mode: AckMode = { mode: 'enhanced' };
  const commit = condition(header.acceptAckType);
  const application = condition(header.appAckType);
  if (commit) mode.commit = commit;
  if (application) mode.application = application;
  return mode;
}

/**
 * The code for an outcome: `accepted`, `error` (content or processing: AE/CE) or `rejected`
 * (unrelated to content — unsupported type, version, processing ID, unknown sender, system
 * unavailable: AR/CR). Enhanced mode answers the commit ACK unless `stage` is 'application'.
 */
export function ackCodeFor(
  header: Pick<Hl7Header, 'acceptAckType' | 'appAckType'>,
  result: 'accepted' | 'error' | 'rejected',
  stage: 'commit' | 'application' = 'commit',
): AckCode {
  const enhanced = ackModeFor(header).mode === 'enhanced' && stage === 'commit';
  const letter = result === 'accepted' ? 'A' : result === 'error' ? 'E' : 'R';
  return ((enhanced ? 'C' : 'A') + letter) as AckCode;
}

/** Whether MSH-15 (commit) or MSH-16 (application) asks for an ACK with this outcome. */
export function ackWanted(header: Pick<Hl7Header, 'acceptAckType' | 'appAckType'>, success: boolean, stage: 'commit' | 'application' = 'commit'): boolean {
  const mode = ackModeFor(header);
  if (mode.mode === 'original') return true;
  const c = stage === 'commit' ? mode.commit : mode.application;
  // An enhanced-mode field left empty is treated as AL (always).
  if (c === undefined || c === 'AL') return true;
  if (c === 'NE') return false;
  return c === 'SU' ? success : !success;
}

/** MSH-12 as one comparable number (major*10000 + minor*100 + patch); unknown versions count as the newest rules. */
function versionRank(v: string): number {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v.trim());
  return m ? Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3] ?? 0) : 20900;
}
// A sender uses one or two versions: remember their ranks instead of running the regex per ACK
// (bounded, since MSH-12 is whatever the sender wrote).
const ranks = new Map<string, number>();
function rankOf(v: string): number {
  let r = ranks.get(v);
  if (r === undefined) {
    r = versionRank(v);
    if (ranks.size < 256) ranks.set(v, r);
  }
  return r;
}
const rank = (major: number, minor: number, patch = 0) => major * 10000 + minor * 100 + patch;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

// The local date/time up to the second and its UTC offset, for the last second seen: ACKs under load
// share it, and only the milliseconds change.
let cachedSecond = NaN;
let cachedPrefix = '';
let cachedOffset = '';

/** HL7 DTM with milliseconds and the local UTC offset, e.g. 20240315103000.123+0100. */
export function hl7Timestamp(now: Date = new Date()): string {
  const ms = now.getTime();
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const off = -now.getTimezoneOffset();
    const abs = Math.abs(off);
    cachedPrefix = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}` +
      `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
    cachedOffset = `${off >= 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
    cachedSecond = second;
  }
  return `${cachedPrefix}.${pad(ms - second * 1000, 3)}${cachedOffset}`;
}

// Unique across processes (random prefix) and within one (counter); at most 20 characters, the
// MSH-10 length before v2.7. Never a bare timestamp, which collides under load.
const idPrefix = randomBytes(6).toString('hex').toUpperCase();
let idCounter = 0;
export function newControlId(): string {
  idCounter = (idCounter + 1) % 36 ** 8;
  return idPrefix + idCounter.toString(36).toUpperCase();
}

export interface BuildAckOptions {
  controlId?: string;
  now?: Date;
}

// The delimiter set of the last ACK: nearly every message uses the same one.
let lastDelimiters = delimitersFrom('|', '^~\\&');
let lastEncoding = '|^~\\&';

/** Builds the ACK text (MSH, MSA and, for errors, ERR), CR-terminated segments. */
export function buildAck(inbound: Hl7Header, outcome: AckOutcome, opts: BuildAckOptions = {}): string {
  const fs = inbound.fieldSep || '|';
  const enc = inbound.encodingChars.length >= 4 ? inbound.encodingChars : '^~\\&';
  if (lastEncoding !== fs + enc) {
    lastDelimiters = delimitersFrom(fs, enc);
    lastEncoding = fs + enc;
  }
  const d = lastDelimiters;
  const version = rankOf(inbound.version);
  const v25 = version >= rank(2, 5);

  let type = 'ACK';
  if (version >= rank(2, 4)) type = `ACK${d.component}${escapeHl7(inbound.triggerEvent, d)}${d.component}ACK`;
  else if (version >= rank(2, 3) && inbound.triggerEvent) type = `ACK${d.component}${escapeHl7(inbound.triggerEvent, d)}`;

  const processing = escapeHl7(inbound.processingId, d) + (inbound.processingMode ? d.component + escapeHl7(inbound.processingMode, d) : '');
  // Built by concatenation: this runs once per message.
  let msh = 'MSH' + fs + enc + fs + inbound.receivingApplication + fs + inbound.receivingFacility + fs +
    inbound.sendingApplication + fs + inbound.sendingFacility + fs + hl7Timestamp(opts.now) + fs + fs + type + fs +
    escapeHl7(opts.controlId ?? newControlId(), d) + fs + processing + fs + escapeHl7(inbound.version, d);
  if (inbound.charset) msh += fs + fs + fs + fs + fs + fs + escapeHl7(inbound.charset, d);

  const failed = outcome.code !== 'AA' && outcome.code !== 'CA';
  const error: AckError | undefined = outcome.error ?? (failed ? { code: 207 } : undefined);

  let msa = 'MSA' + fs + outcome.code + fs + escapeHl7(inbound.controlId, d);
  if (!v25 && (outcome.text ?? error?.text)) msa += fs + escapeHl7((outcome.text ?? error?.text)!, d);

  let out = msh + '\r' + msa + '\r';
  if (error) {
    const text = error.text ?? errorCodeText[error.code] ?? '';
    const loc = error.location;
    if (v25) {
      const erl = loc
        ? [loc.segment, loc.sequence, loc.field, loc.repetition, loc.component, loc.subcomponent]
            .map((x) => (x === undefined ? '' : escapeHl7(String(x), d)))
            .join(d.component)
            .replace(new RegExp(`\\${d.component}+$`), '')
        : '';
      const cwe = [String(error.code), escapeHl7(text, d), 'HL70357'].join(d.component);
      const err = ['ERR', '', erl, cwe, error.severity ?? 'E'];
      if (outcome.text) err.push('', '', '', escapeHl7(outcome.text, d));
      out += err.join(fs) + '\r';
    } else {
      const ce = [String(error.code), escapeHl7(text, d), 'HL70357'].join(d.subcomponent);
      const eld = [loc ? escapeHl7(loc.segment, d) : '', loc?.sequence ?? '', loc?.field ?? '', ce].join(d.component);
      out += ['ERR', eld].join(fs) + '\r';
    }
  }
  return out;
}
