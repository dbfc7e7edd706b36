// `hdc test [paths…]`: compiles the .hdc files and runs their `test` blocks through the real
// listener and engine, with API responses mocked. Exit 1 when a test fails or the files do not
// compile.
import { defineCommand } from '../command.ts';
import { renderDiagnostics } from '../diagnostic-report.ts';
import { formatJson, formatText, summarize } from '../../runtime/testing/report.ts';
import { runPlanTests } from '../../runtime/testing/run-tests.ts';

const usage = `Usage: hdc test [paths…] [--filter TEXT] [--format text|json]

Runs the \`test\` blocks of the .hdc files (default: the current folder, searched recursively).
Each test posts its fixture message to the named sender through the real listener (matching,
mapping, ACK), runs the workflows in the real engine with API responses taken from its mocks
(matched by step name, or by API and resource type / path / method), then checks the
expectations: ACK code and text, mapped fields, requests made, stored records.
Fixture paths are relative to the current folder, as in the compiled plan.

Options:
  --filter TEXT     only tests whose name contains TEXT
  --format FORMAT   text (default) or json
Exit status: 0 when every test passed, 1 otherwise.`;

export default defineCommand({
  name: 'test',
  usage,
  options: { format: { type: 'string', default: 'text' }, filter: { type: 'string' } },
  choices: { format: ['text', 'json'] },
  async run({ values, positionals }) {
    const started = performance.now();
    const { compileFiles } = await import('../../compiler/api.ts');
    const { plan, diagnostics } = await compileFiles(positionals);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (!plan || errors.length) {
      console.error(renderDiagnostics(errors, 'text') + '\n');
      console.error(`hdc test: the files do not compile (${errors.length} error${errors.length === 1 ? '' : 's'})`);
      return 1;
    }
    const results = await runPlanTests(plan, { filter: values.filter });
    const summary = summarize(results, performance.now() - started);
    console.log(values.format === 'json' ? formatJson(results, summary) : formatText(results, summary, process.stdout.isTTY));
    return summary.failed > 0 ? 1 : 0;
  },
});
