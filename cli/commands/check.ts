import { defineCommand } from '../command.ts';
import { compileFiles } from '../../compiler/api.ts';
import { renderDiagnostics, summaryLine, type ReportFormat } from '../diagnostic-report.ts';

export default defineCommand({
  name: 'check',
  usage: `Usage: hdc check [paths…] [--format text|json|github]

Checks the .hdc files (folders are searched recursively; default: the current folder) and prints
every diagnostic with its code, location and a fix. Exits 0 when there is no error, 1 otherwise.

Options:
  --format text|json|github   Output format (github: workflow annotations). Default: text.`,
  options: { format: { type: 'string', default: 'text' } },
  choices: { format: ['text', 'json', 'github'] },
  async run({ values, positionals }) {
    const format = values.format as ReportFormat;
    const result = await compileFiles(positionals, { emit: false });
    const out = renderDiagnostics(result.diagnostics, format);
    if (out) console.log(out);
    const errors = result.diagnostics.some((d) => d.severity === 'error');
    if (format === 'text') {
      const n = result.project.files.length;
      console.log(`${out ? '\n' : ''}${n} file${n === 1 ? '' : 's'} checked: ${summaryLine(result.diagnostics)}`);
    }
    return errors ? 1 : 0;
  },
});
