import { readFileSync } from 'node:fs';
import { defineCommand } from '../command.ts';
import { compileFiles } from '../../compiler/api.ts';
import { explainPlan, type ExplainFormat } from '../../compiler/explain/explain.ts';
import { validate } from '../../plan/validate-plan.js';
import { renderDiagnostics, summaryLine } from '../diagnostic-report.ts';

export default defineCommand({
  name: 'explain',
  usage: `Usage: hdc explain [paths…|plan.json] [--format markdown|text|json]

Prints what the integration does, read from its execution plan: each sender (path, identity,
MSH matches, accepted types, ACK mode, mapped fields, routes), each workflow's steps and the APIs
it calls, each SMART launch's issuers, scopes, login, fetches and every page the browser may be
redirected to, and the APIs and auths (secrets only as env(NAME) / file(…)). The input is a
plan.json, or .hdc files and folders (default: the current folder) that are compiled first.

Options:
  --format markdown|text|json   Output format. Default: markdown (reads well in a PR comment).`,
  options: { format: { type: 'string', default: 'markdown' } },
  choices: { format: ['markdown', 'text', 'json'] },
  async run({ values, positionals }) {
    const format = values.format as ExplainFormat;

    if (positionals.length === 1 && positionals[0]!.endsWith('.json')) {
      let data: unknown;
      try {
        data = JSON.parse(readFileSync(positionals[0]!, 'utf8'));
      } catch (e) {
        console.error(`hdc explain: cannot read ${positionals[0]}: ${(e as Error).message}`);
        return 1;
      }
      if (!validate(data)) {
        const first = validate.errors?.[0];
        console.error(`hdc explain: ${positionals[0]} is not a valid plan: ${first?.instancePath || '/'} ${first?.message ?? ''}`);
        return 1;
      }
      process.stdout.write(explainPlan(data, format));
      return 0;
    }

    const result = await compileFiles(positionals);
    if (!result.plan) {
      console.error(renderDiagnostics(result.diagnostics.filter((d) => d.severity === 'error'), 'text'));
      console.error(`\nnot compiled: ${summaryLine(result.diagnostics)}`);
      return 1;
    }
    process.stdout.write(explainPlan(result.plan, format));
    return 0;
  },
});
