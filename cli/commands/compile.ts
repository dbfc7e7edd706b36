import { writeFileSync, renameSync } from 'node:fs';
import { defineCommand } from '../command.ts';
import { compileFiles } from '../../compiler/api.ts';
import { renderDiagnostics, summaryLine } from '../diagnostic-report.ts';

export default defineCommand({
  name: 'compile',
  usage: `Usage: hdc compile [paths…] [-o plan.json]

Checks the .hdc files (default: the current folder) and writes the execution plan the runtime
runs. Nothing is written when there are errors (exit 1). The same sources always give a
byte-identical plan; secrets appear only as env()/file() references.

Options:
  -o, --out FILE   Where to write the plan (default plan.json; - for standard output).
  --allow-literal-secrets
                   For local experiments: a secret written as a literal is a warning instead of
                   an error, and the plan reads it from an HDC_LITERAL_SECRET_… variable instead
                   of holding the value.`,
  options: {
    out: { type: 'string', short: 'o', default: 'plan.json' },
    'allow-literal-secrets': { type: 'boolean', default: false },
  },
  async run({ values, positionals }) {
    const result = await compileFiles(positionals, { allowLiteralSecrets: values['allow-literal-secrets'] });
    const shown = renderDiagnostics(result.diagnostics, 'text');
    if (shown) console.error(shown + '\n');
    if (!result.plan) {
      console.error(`not compiled: ${summaryLine(result.diagnostics)}`);
      return 1;
    }
    const text = JSON.stringify(result.plan, null, 2) + '\n';
    if (values.out === '-') process.stdout.write(text);
    else {
      const tmp = `${values.out}.tmp-${process.pid}`;
      writeFileSync(tmp, text);
      renameSync(tmp, values.out!);
      const p = result.plan;
      console.error(`wrote ${values.out}: ${p.senders.length} senders, ${p.workflows.length} workflows, ${p.launches.length} launches, ${p.tests.length} tests (${summaryLine(result.diagnostics)})`);
    }
    return 0;
  },
});
