// The `hdc` front end: dispatches to sub-commands, each loaded lazily so that
// `hdc check` never loads the runtime (Koa, SQLite) and `hdc run` never loads the editor bits.
import type { Command } from './command.ts';
import { version } from '../compiler/version.ts';

interface CommandEntry {
  /** One line for `hdc --help` (kept here so that the help loads no command module). */
  summary: string;
  load(): Promise<{ default: Command }>;
}

const commands: Record<string, CommandEntry> = {
  check: { summary: 'Check .hdc files and print diagnostics (exit 1 on errors)', load: () => import('./commands/check.ts') },
  compile: { summary: 'Check, then write the execution plan (plan.json)', load: () => import('./commands/compile.ts') },
  fmt: { summary: 'Rewrite .hdc files in the canonical format (--check: only report)', load: () => import('./commands/fmt.ts') },
  explain: { summary: 'Summarise what a plan does, for reviewers (Markdown by default)', load: () => import('./commands/explain.ts') },
  convert: { summary: 'Convert HL7 v2 messages to FHIR R4 Bundles with transforms (the std library by default)', load: () => import('./commands/convert.ts') },
  test: { summary: 'Run the test blocks of .hdc files with mocked APIs', load: () => import('./commands/test.ts') },
  run: { summary: 'Run integrations: the HL7 v2 HTTPS listener, the journal and the workflow engine', load: () => import('./commands/run.ts') },
  runs: { summary: 'List workflow runs, show one, replay dead letters', load: () => import('./commands/runs.ts') },
  bulk: { summary: 'Start, follow, cancel and list Bulk FHIR exports', load: () => import('./commands/bulk.ts') },
  send: { summary: 'Post HL7 v2 files to an endpoint and print the ACKs', load: () => import('./commands/send.ts') },
  parse: { summary: 'Parse HL7 v2 files and print them as JSON, or the values at HL7 paths', load: () => import('./commands/parse.ts') },
  users: { summary: 'Manage the embedded users table used by `login users`', load: () => import('./commands/users.ts') },
  'dev-certs': { summary: 'Create a local CA, a server certificate and partner client certificates for development', load: () => import('./commands/dev-certs.ts') },
  lsp: { summary: 'Start the language server (LSP over stdio) for editors', load: () => import('./commands/lsp.ts') },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const lines = [`hdc ${version} — the health data connector`, '', 'Usage: hdc <command> [options]', '', 'Commands:'];
    for (const [key, entry] of Object.entries(commands)) lines.push(`  ${key.padEnd(10)} ${entry.summary}`);
    lines.push('', 'Run `hdc <command> --help` for a command\'s options.');
    console.log(lines.join('\n'));
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    console.log(version);
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`hdc: unknown command "${name}". Run \`hdc --help\` for the list.`);
    return 2;
  }
  const cmd = (await entry.load()).default;
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  // Flags are parsed by the command (defineCommand): a usage mistake is exit 2 for every command.
  return cmd.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
