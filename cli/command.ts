// One `hdc` sub-command, and the one place flags are parsed: every command answers an unknown
// flag, a flag without its value, a value outside its choices or a missing argument the same way
// — exit 2 with its usage — never with a crash that CI would read as "errors found" (exit 1).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  /** The full text printed by `hdc NAME --help`. */
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>;

export interface CommandSpec<O extends Options> {
  name: string;
  usage: string;
  options: O;
  /** The values a string option may take (`--format text|json|github`). */
  choices?: { [K in keyof O]?: readonly string[] };
  /** Fewest positional arguments (e.g. 1 for `hdc parse FILE…`). */
  minPositionals?: number;
  run(parsed: Parsed<O>): Promise<number>;
}

/** A usage mistake found while running (a bad value): exit 2 with the message and the usage. */
export class UsageError extends Error {}

export function defineCommand<O extends Options>(spec: CommandSpec<O>): Command {
  const usageError = (message: string) => {
    console.error(`hdc ${spec.name}: ${message}\n\n${spec.usage}`);
    return 2;
  };
  return {
    usage: spec.usage,
    async run(args) {
      let parsed: Parsed<O>;
      try {
        parsed = parseArgs({ args, options: spec.options, allowPositionals: true, strict: true });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code?.startsWith('ERR_PARSE_ARGS_')) return usageError((err as Error).message.split('. To specify')[0]!);
        throw err;
      }
      for (const [name, allowed] of Object.entries(spec.choices ?? {}) as [string, readonly string[]][]) {
        const given = (parsed.values as Record<string, unknown>)[name];
        for (const v of Array.isArray(given) ? given : given === undefined ? [] : [given]) {
          if (!allowed.includes(String(v))) return usageError(`--${name} must be ${allowed.join(', ')}; not "${String(v)}"`);
        }
      }
      if (parsed.positionals.length < (spec.minPositionals ?? 0)) return usageError('missing argument');
      try {
        return await spec.run(parsed);
      } catch (err) {
        if (err instanceof UsageError) return usageError(err.message);
        throw err;
      }
    },
  };
}
