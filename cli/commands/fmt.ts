import { readFileSync, writeFileSync } from 'node:fs';
import { defineCommand } from '../command.ts';
import { displayPath, findHdcFiles } from '../../compiler/api.ts';
import type { Diagnostic } from '../../compiler/diagnostics.ts';
import { formatSource } from '../../compiler/format/format.ts';

export default defineCommand({
  name: 'fmt',
  usage: `Usage: hdc fmt [--check] [paths…]

Formats .hdc files in place (folders are searched recursively, skipping node_modules; default:
the current folder) and lists the files it rewrote. Files with syntax errors are left untouched.

Options:
  --check   Write nothing; list the files that are not formatted and exit 1 if there are any.

Exit codes: 0 all formatted, 1 a file needs formatting (--check) or has syntax errors, 2 usage.`,
  options: { check: { type: 'boolean', default: false } },
  async run({ values, positionals }) {
    const missing: Diagnostic[] = [];
    const files = findHdcFiles(positionals.length ? positionals : ['.'], missing);
    for (const d of missing) console.error(`hdc fmt: ${d.summary}`);
    if (missing.length) return 2;

    let failed = false;
    let changed = 0;
    for (const file of files) {
      const name = displayPath(file);
      const result = formatSource(readFileSync(file, 'utf8'), name);
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      for (const d of errors) console.error(`${d.file}:${d.range.start.line}:${d.range.start.col}: error ${d.code}: ${d.summary}`);
      if (errors.length) failed = true;
      if (!result.changed) continue;
      changed++;
      if (!values.check) writeFileSync(file, result.text);
      console.log(name);
    }
    if (values.check && changed) {
      console.error(`${changed} file${changed === 1 ? '' : 's'} not formatted; run \`hdc fmt\` to fix.`);
      return 1;
    }
    return failed ? 1 : 0;
  },
});
