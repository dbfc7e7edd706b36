import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { compileFiles } from '../../compiler/api.ts';
import { renderDiagnostics, summaryLine, type ReportFormat } from '../diagnostic-report.ts';

const command: Command = {
  summary: 'Check .hdc files and print diagnostics (exit 1 on errors)',
  usage: `Usage: hdc check [paths…] [--format text|json|github]

Checks the .hdc files (folders are searched recursively; default: the current folder) and prints
every diagnostic with its code, location and a fix. Exits 0 when there is no error, 1 otherwise.

Options:
  --format text|json|github   Output format (github: workflow annotations). Default: text.`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { format: { type: 'string', default: 'text' } } });
    const format = values.format as ReportFormat;
    if (!['text', 'json', 'github'].includes(format)) {
      console.error(`hdc check: unknown format "${format}" (text, json or github)`);
      return 2;
    }
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
};
export default command;
