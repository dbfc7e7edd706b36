// The `hdc` front end: dispatches to sub-commands, each loaded lazily so that
// `hdc check` never loads the runtime (Koa, SQLite) and `hdc run` never loads the editor bits.
import type { Command } from './command.ts';
import { version } from '../compiler/version.ts';

type Loader = () => Promise<{ default: Command }>;

const commands: Record<string, Loader> = {
  check: () => import('./commands/check.ts'),
  compile: () => import('./commands/compile.ts'),
  fmt: () => import('./commands/fmt.ts'),
  explain: () => import('./commands/explain.ts'),
  convert: () => import('./commands/convert.ts'),
  lsp: () => import('./commands/lsp.ts'),
  runs: () => import('./commands/runs.ts'),
  test: () => import('./commands/test.ts'),
  parse: () => import('./commands/parse.ts'),
  run: () => import('./commands/run.ts'),
  send: () => import('./commands/send.ts'),
  'dev-certs': () => import('./commands/dev-certs.ts'),
  users: () => import('./commands/users.ts'),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const lines = [`hdc ${version} — the health data connector`, '', 'Usage: hdc <command> [options]', '', 'Commands:'];
    for (const [key, load] of Object.entries(commands)) {
      const cmd = (await load()).default;
      lines.push(`  ${key.padEnd(10)} ${cmd.summary}`);
    }
    lines.push('', 'Run `hdc <command> --help` for a command\'s options.');
    console.log(lines.join('\n'));
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    console.log(version);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`hdc: unknown command "${name}". Run \`hdc --help\` for the list.`);
    return 2;
  }
  const cmd = (await load()).default;
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    // A flag the command does not know, or a flag without its value, is a usage error (exit 2)
    // for every command alike, never a crash that CI would read as "errors found".
    const code = (err as { code?: string }).code;
    if (code && code.startsWith('ERR_PARSE_ARGS_')) {
      console.error(`hdc ${name}: ${(err as Error).message.split('. To specify')[0]}\n\n${cmd.usage}`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
