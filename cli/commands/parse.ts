// `hdc parse FILE… [--get PATH…] [--breaks cr|crlf|lf|any]`: shows how the runtime reads HL7
// samples, so integration engineers can try paths before writing them in .hdc files.
import { readFileSync } from 'node:fs';
import { defineCommand, UsageError } from '../command.ts';
import type { Hl7Path } from '../../plan/plan.types.ts';
import { parseHl7Path } from '../../compiler/syntax/hl7-path.ts';
import { decodeBody, Hl7CharsetError, Hl7ParseError, parseMessage, splitBatch } from '../../runtime/inbound/hl7/index.ts';
import type { Hl7Message, SegmentBreaks } from '../../runtime/inbound/hl7/index.ts';
import { checkStructure, describeUndeclaredBreak } from '../../runtime/inbound/message-structure.ts';

const usage = `Usage: hdc parse FILE… [--get PATH…] [--breaks cr|crlf|lf|any]

Parses HL7 v2 files (batches and concatenated messages are split) and prints each message as
JSON: segments → fields (by number) → repetitions → components → subcomponents, decoded, with
\`""\` shown as null. With --get, prints one line per path instead: PATH<TAB>value as JSON, the
value a mapping reads: a path that stops above its leaves reads the first one (PID-5 is PID-5.1.1),
\`""\` prints null, an empty or absent position prints nothing after the tab, a * path a list.
A message the listener would refuse (a line that is not a segment, segments joined into MSH,
line breaks --breaks does not accept) is reported as an error; it is still printed.

Options:
  --get PATH      an HL7 path in the .hdc syntax, e.g. PID-5.1, PID-3[*].1, OBX[*]-5 (repeatable)
  --breaks MODE   which line endings end a segment: cr, crlf, lf or any (default any)

Exit status: 0 when every message parsed, 1 when one is broken (FILE:LINE:COL: error: …),
2 on a usage error.`;

/** One --get line: `""` is null, an empty or absent position prints nothing (see usage). */
function getLine(msg: Hl7Message, p: Hl7Path): string {
  const v = msg.get(p);
  if (v === null && msg.written(p) !== '""') return `${p.text}\t`;
  return `${p.text}\t${JSON.stringify(v)}`;
}

/** JSON with one line per field, so a segment reads like its ER7 line. */
function render(msg: Hl7Message): string {
  const tree = msg.toJSON();
  const segs = tree.segments.map((s) => {
    const fields = Object.entries(s.fields).map(([n, v]) => `        ${JSON.stringify(n)}: ${JSON.stringify(v)}`);
    return `    {\n      "name": ${JSON.stringify(s.name)},\n      "fields": {${fields.length ? `\n${fields.join(',\n')}\n      ` : ''}}\n    }`;
  });
  return `{\n  "delimiters": ${JSON.stringify(tree.delimiters)},\n  "segments": [\n${segs.join(',\n')}\n  ]\n}`;
}

export default defineCommand({
  name: 'parse',
  usage,
  options: { get: { type: 'string', multiple: true }, breaks: { type: 'string', default: 'any' } },
  choices: { breaks: ['cr', 'crlf', 'lf', 'any'] },
  minPositionals: 1,
  async run(parsed) {
    const files = parsed.positionals;
    const breaks = parsed.values.breaks as string;
    const paths: Hl7Path[] = [];
    for (const text of parsed.values.get ?? []) {
      const r = parseHl7Path(text);
      if ('error' in r) throw new UsageError(`--get ${text}: column ${r.column}: ${r.error}`);
      paths.push(r.path);
    }

    let status = 0;
    const out: string[] = [];
    for (const file of files) {
      let body: Buffer;
      try {
        body = readFileSync(file);
      } catch (e) {
        console.error(`${file}: error: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
        status = 1;
        continue;
      }
      let text: string;
      try {
        text = decodeBody(body).text;
      } catch (e) {
        if (!(e instanceof Hl7CharsetError)) throw e;
        console.error(`${file}:1:1: error: ${e.message}`);
        status = 1;
        continue;
      }
      let split = splitBatch(text, breaks as SegmentBreaks);
      if (split.undeclared) {
        const u = split.undeclared;
        console.error(`${file}:${u.line}:1: error: ${describeUndeclaredBreak(u, breaks as SegmentBreaks, `--breaks ${breaks}`)}`);
        status = 1;
        split = splitBatch(text, 'any');
      }
      for (const m of split.batch?.countMismatches ?? []) console.error(`${file}: warning: ${m}`);
      if (split.messages.length === 0) {
        console.error(`${file}:1:1: error: no HL7 message in the file`);
        status = 1;
      }
      split.messages.forEach((raw, i) => {
        let msg: Hl7Message;
        try {
          msg = parseMessage(raw);
        } catch (e) {
          if (!(e instanceof Hl7ParseError)) throw e;
          console.error(`${file}:${split.lines[i]! + e.line - 1}:${e.column}: error: ${e.message}`);
          status = 1;
          return;
        }
        const broken = checkStructure(msg);
        if (broken) {
          const loc = broken.error.location;
          const line = split.lines[i]! + (loc?.segment && loc.sequence && loc.field === undefined ? (msg.segment(loc.sequence - 1)?.line ?? 1) : 1) - 1;
          console.error(`${file}:${line}:1: error: ${broken.error.text}`);
          status = 1;
        }
        if (paths.length === 0) out.push(render(msg));
        else out.push(paths.map((p) => getLine(msg, p)).join('\n'));
      });
    }
    // Messages are separated by a blank line when there are several.
    if (out.length) process.stdout.write(out.join('\n\n') + '\n');
    return status;
  },
});
