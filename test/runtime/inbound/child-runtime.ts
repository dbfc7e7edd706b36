// Runs `hdc run` as a child process (from sources, HDC_DEV=1) and waits for its "listening" log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export const repoRoot = new URL('../../../', import.meta.url).pathname;

export interface ChildRuntime {
  child: ChildProcess;
  url: string;
  logs: Record<string, unknown>[];
  stderr: string[];
  /** Settles after the child's streams closed, so `logs` holds every line it wrote. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The first log line (already read or still to come) that matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

export function startChild(args: string[], env: Record<string, string> = {}, cwd = repoRoot): Promise<ChildRuntime> {
  const child = spawn(process.execPath, [repoRoot + 'bin/hdc.js', 'run', ...args], {
    cwd,
    env: { ...process.env, HDC_DEV: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })));
  const waiters = new Set<{ match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text);
    } catch {
      return; // not a log line
    }
    logs.push(line);
    for (const w of waiters) {
      if (w.match(line)) {
        waiters.delete(w);
        w.resolve(line);
      }
    }
  });
  const waitForLog = (match: (line: Record<string, unknown>) => boolean) => {
    const seen = logs.find(match);
    return seen ? Promise.resolve(seen) : new Promise<Record<string, unknown>>((resolve) => waiters.add({ match, resolve }));
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hdc run did not start in 30 s:\n${stderr.join('\n')}`));
    }, 30_000);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      const m = /^hdc run: listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, logs, stderr, exited, waitForLog });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`hdc run exited (${code}) before listening:\n${stderr.join('\n')}`));
    });
  });
}
