// The server's side of the check thread: starts it (from the TypeScript sources, the built
// JavaScript or the extension's bundle alike), sends it the documents that changed since its last
// check, and runs one check per project at a time (a newer request waits for the running one, whose
// result the scheduler then finds stale). A thread that dies is started again on the next check.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CheckReply, CheckRequest, CheckResult } from './check-protocol.ts';
import type { Workspace } from './workspace.ts';

export class CheckThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private waiting = new Map<number, { resolve: (r: CheckResult) => void; reject: (e: Error) => void }>();
  /** Open-document versions the thread has, by path. */
  private synced = new Map<string, number>();
  private disk = new Set<string>();
  private forgotten = new Set<string>();
  private running = new Map<string, Promise<unknown>>();

  constructor(private readonly workspace: Workspace, private readonly log: (message: string) => void) {}

  /** A file changed on disk: the thread forgets what it read of it with the next check. */
  diskChanged(path: string): void {
    this.disk.add(path);
  }
  forget(dir: string): void {
    this.forgotten.add(dir);
  }

  /** Checks the project in the thread; resolves with its diagnostics. */
  check(dir: string): Promise<CheckResult> {
    const before = this.running.get(dir) ?? Promise.resolve();
    const run = before.catch(() => {}).then(() => this.send(dir));
    this.running.set(dir, run);
    void run.finally(() => {
      if (this.running.get(dir) === run) this.running.delete(dir);
    }).catch(() => {});
    return run;
  }

  dispose(): void {
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
  }

  private send(dir: string): Promise<CheckResult> {
    const worker = this.ensureWorker();
    const texts: CheckRequest['texts'] = [];
    const open = new Set(this.workspace.openPaths());
    for (const path of open) {
      const doc = this.workspace.document(path)!;
      if (this.synced.get(path) === doc.version) continue;
      this.synced.set(path, doc.version);
      texts.push([path, doc.getText()]);
    }
    for (const path of this.synced.keys()) {
      if (open.has(path)) continue;
      this.synced.delete(path);
      texts.push([path, null]);
    }
    const id = this.nextId++;
    const req: CheckRequest = { type: 'check', id, dir, texts, disk: [...this.disk], forget: [...this.forgotten] };
    this.disk.clear();
    this.forgotten.clear();
    return new Promise<CheckResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage(req);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startCheckWorker();
    this.worker = worker;
    this.synced.clear();
    worker.on('message', (reply: CheckReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (reply.type === 'checked') w.resolve(reply);
      else w.reject(new Error(reply.error));
    });
    const down = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.log(`hdc: the check thread stopped (${why}); it starts again with the next check`);
      for (const w of this.waiting.values()) w.reject(new Error(`check thread stopped: ${why}`));
      this.waiting.clear();
    };
    worker.on('error', (e) => down(String(e?.stack ?? e)));
    worker.on('exit', (code) => down(`exit code ${code}`));
    // The thread never keeps the process alive on its own: the server exits with its connection.
    worker.unref();
    return worker;
  }
}

/** tsx's ESM entry (a development dependency: only sources are run through it). */
function tsxEsmApi(from: string): string {
  const pkg = createRequire(from).resolve('tsx/package.json');
  return pathToFileURL(join(dirname(pkg), 'dist/esm/api/index.mjs')).href;
}

function startCheckWorker(): Worker {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  // The extension's bundle names every module by the bundle file (server.js); beside it lies check-worker.js.
  const script = new URL(fromSource ? './check-worker.ts' : './check-worker.js', here);
  // From TypeScript sources the thread loads them through tsx's ESM loader (development only: the
  // compiler's parser library is ESM-only, which tsx's require hook cannot load).
  const load = `import(${JSON.stringify(script.href)})`;
  const code = fromSource ? `import(${JSON.stringify(tsxEsmApi(here))}).then((tsx) => tsx.register()).then(() => ${load})` : load;
  return new Worker(code, {
    eval: true,
    execArgv: [],
    // A check allocates a lot briefly: a larger young generation spares it most scavenges.
    resourceLimits: { maxYoungGenerationSizeMb: 64 },
  });
}
