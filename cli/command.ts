/** One `hdc` sub-command. Each lives in its own module and is loaded only when called. */
export interface Command {
  /** One line for `hdc --help`. */
  summary: string;
  /** The full text printed by `hdc NAME --help`. */
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
