// `hdc convert` and the benchmark: one HL7 v2 message → the value of an entry transform (a FHIR
// Bundle for the std library's), stripped of empty values as FHIR bodies are.
import { parseMessage } from '../inbound/hl7/index.ts';
import { stripEmpty } from '../workflows/fhir-body.ts';
import { MessageValue } from './hl7-values.ts';
import type { TransformRunner } from './run-transform.ts';

export interface ConvertOptions {
  /** The transform to run; default: the entry transform for the message type (std.ADT_A01 …). */
  transform?: string;
  /** Zone for times without an offset (default UTC). */
  timezone?: string;
}

export class ConvertError extends Error {}

/** Segments may end with CR, CRLF or LF; a UTF-8 byte-order mark is dropped. */
export function normalizeMessageText(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n|\n|\r/g, '\r').replace(/\r+$/, '');
}

/** The entry transform names tried for a message: its MSH-9 type and trigger, then its structure. */
export function entryTransformNames(msh9: { code?: string | null; trigger?: string | null; structure?: string | null }): string[] {
  const names: string[] = [];
  if (msh9.code && msh9.trigger) names.push(`${msh9.code}_${msh9.trigger}`);
  if (msh9.structure) names.push(msh9.structure);
  return names;
}

export function convertMessage(text: string, runner: TransformRunner, opts: ConvertOptions = {}): { transform: string; value: unknown } {
  const msg = parseMessage(normalizeMessageText(text));
  let name = opts.transform;
  if (!name) {
    const candidates = entryTransformNames({ code: msg.get({ text: 'MSH-9.1', segment: 'MSH', field: 9, component: 1 }) as string | null,
      trigger: msg.get({ text: 'MSH-9.2', segment: 'MSH', field: 9, component: 2 }) as string | null,
      structure: msg.get({ text: 'MSH-9.3', segment: 'MSH', field: 9, component: 3 }) as string | null });
    name = candidates.flatMap((c) => [c, `std.${c}`]).find((c) => runner.has(c));
    if (!name) throw new ConvertError(`no entry transform for message type ${candidates.join(' / ') || '(no MSH-9)'}; name one with --transform`);
  } else if (!runner.has(name)) {
    if (runner.has(`std.${name}`)) name = `std.${name}`;
    else throw new ConvertError(`unknown transform "${name}"`);
  }
  const value = runner.call(name, [new MessageValue(msg)], { vars: {}, transforms: runner, timezone: opts.timezone ?? 'UTC' });
  return { transform: name, value: stripEmpty(value) };
}
