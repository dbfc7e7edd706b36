import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { defineCommand } from '../command.ts';
import { compileSources, findHdcFiles, displayPath } from '../../compiler/api.ts';
import { TransformRunner } from '../../runtime/transforms/run-transform.ts';
import { convertMessage } from '../../runtime/transforms/convert-message.ts';
import { renderDiagnostics, summaryLine } from '../diagnostic-report.ts';

/** Compiles the std HL7 v2 → FHIR library with the project's .hdc files (its transforms and overrides). */
export function compileConverter(projectPaths: string[]): { runner?: TransformRunner; errors: string } {
  const sources = new Map<string, string>();
  for (const p of findHdcFiles(projectPaths)) sources.set(displayPath(p), readFileSync(p, 'utf8'));
  // The library is always there: a project need not import it to be converted with it.
  sources.set('<hdc convert>', 'import "std/hl7v2-fhir"\n');
  const result = compileSources(sources);
  if (!result.plan) {
    return { errors: `${renderDiagnostics(result.diagnostics.filter((d) => d.severity === 'error'), 'text')}\nnot compiled: ${summaryLine(result.diagnostics)}` };
  }
  return { runner: TransformRunner.forPlan(result.plan), errors: '' };
}

const usage = `Usage: hdc convert MESSAGE.hl7… [--transform NAME] [--project DIR] [-o DIR] [--timezone ZONE]

Converts each message with an entry transform and prints the result as JSON (one Bundle per
message; several messages print a JSON array). Without --transform, the transform is picked by
the message type (MSH-9: ADT^A01 runs ADT_A01, else std.ADT_A01, then the structure MSH-9.3).
Segments may end with CR, CRLF or LF.

Options:
  --transform NAME   The transform to run (a project's, or the library's: std.ORU_R01).
  --project DIR      .hdc files or folders whose transforms and overrides are used (default: none).
  -o, --out DIR      Write one file per message, DIR/<message file name>.json, instead of printing.
  --timezone ZONE    IANA zone of HL7 times without an offset (default UTC).

Exit status: 0 when every message converted, 1 when one did not (or the project has errors),
2 on a usage error.`;

export default defineCommand({
  name: 'convert',
  usage,
  options: { transform: { type: 'string' }, project: { type: 'string', multiple: true }, out: { type: 'string', short: 'o' }, timezone: { type: 'string' } },
  minPositionals: 1,
  async run(parsed) {
    const { values, positionals } = parsed;
    const { runner, errors } = compileConverter(values.project ?? []);
    if (!runner) {
      console.error(errors);
      return 1;
    }
    const outputs: unknown[] = [];
    let failed = 0;
    for (const file of positionals) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        console.error(`hdc convert: cannot read ${file}: ${(e as Error).message}`);
        failed++;
        continue;
      }
      try {
        const { value } = convertMessage(text, runner, { transform: values.transform, timezone: values.timezone });
        if (values.out) {
          mkdirSync(values.out, { recursive: true });
          writeFileSync(join(values.out, basename(file).replace(/\.[^.]*$/, '') + '.json'), JSON.stringify(value, null, 2) + '\n');
        } else outputs.push(value);
      } catch (e) {
        console.error(`hdc convert: ${file}: ${(e as Error).message}`);
        failed++;
      }
    }
    if (!values.out && outputs.length) process.stdout.write(JSON.stringify(positionals.length === 1 ? outputs[0] : outputs, null, 2) + '\n');
    return failed ? 1 : 0;
  },
});
