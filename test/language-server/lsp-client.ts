// A small LSP client for tests and the benchmark: starts the real server process
// (`hdc lsp --stdio`) and speaks JSON-RPC to it over its stdin/stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type Position,
  type InitializeResult,
} from 'vscode-languageserver/node.js';

const root = new URL('../..', import.meta.url).pathname;

export interface StartOptions {
  /** Workspace folder the server is told about. */
  rootDir: string;
  debounceMs?: number;
  /** The server's working directory (default: the repository root). Editors start it in the project folder. */
  cwd?: string;
  /** Runs this script with `--stdio` instead of `bin/hdc.js lsp --stdio` (the extension's bundle). */
  serverScript?: string;
  /** Client capabilities (default: dynamic file-watcher registration and snippet support). */
  capabilities?: Record<string, unknown>;
  /** More initializationOptions. */
  initializationOptions?: Record<string, unknown>;
}

export class LspClient {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  private listeners: Array<() => void> = [];
  private versions = new Map<string, number>();
  stderr = '';
  initializeResult: InitializeResult | undefined;
  /** From starting the process to the initialize response. */
  initializeMs = 0;
  /** Requests the server sent to the client (client/registerCapability …), by method. */
  readonly serverRequests: Array<{ method: string; params: unknown }> = [];
  /** $/progress, hdc/checking and window/showMessage notifications, in order. */
  readonly notifications: Array<{ method: string; params: unknown }> = [];
  /** window/logMessage output (the server's errors land here). */
  log = '';

  private constructor(readonly child: ChildProcess, readonly connection: ProtocolConnection) {}

  static async start(opts: StartOptions): Promise<LspClient> {
    const started = performance.now();
    // HDC_LSP_NODE_ARGS: flags for the server's node (profiling the benchmark: `--cpu-prof --cpu-prof-dir=DIR`).
    const nodeArgs = process.env.HDC_LSP_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const args = [...nodeArgs, ...(opts.serverScript ? [opts.serverScript, '--stdio'] : [root + 'bin/hdc.js', 'lsp', '--stdio'])];
    const child = spawn(process.execPath, args, {
      cwd: opts.cwd ?? root,
      env: { ...process.env, HDC_DEV: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const client = new LspClient(child, connection);
    child.stderr!.on('data', (d) => (client.stderr += d));
    connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      const list = client.diagnostics.get(p.uri) ?? [];
      list.push(p);
      client.diagnostics.set(p.uri, list);
      for (const l of client.listeners.splice(0)) l();
    });
    connection.onRequest('client/registerCapability', (params: unknown) => {
      client.serverRequests.push({ method: 'client/registerCapability', params });
      return null;
    });
    connection.onRequest('workspace/configuration', () => []);
    connection.onRequest('window/workDoneProgress/create', (params: unknown) => {
      client.serverRequests.push({ method: 'window/workDoneProgress/create', params });
      return null;
    });
    for (const method of ['$/progress', 'hdc/checking', 'window/showMessage']) {
      connection.onNotification(method, (params: unknown) => {
        client.notifications.push({ method, params });
        for (const l of client.listeners.splice(0)) l();
      });
    }
    connection.onNotification('window/logMessage', (m: { message: string }) => (client.log += m.message + '\n'));
    connection.listen();
    const rootUri = pathToFileURL(opts.rootDir).href;
    client.initializeResult = await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri,
      workspaceFolders: [{ uri: rootUri, name: 'test' }],
      capabilities: opts.capabilities ?? { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } }, textDocument: { completion: { completionItem: { snippetSupport: true } } } },
      initializationOptions: { ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}), ...opts.initializationOptions },
    });
    client.initializeMs = performance.now() - started;
    await connection.sendNotification('initialized', {});
    return client;
  }

  uri(path: string): string {
    return pathToFileURL(path).href;
  }

  async open(path: string, text: string): Promise<string> {
    const uri = this.uri(path);
    this.versions.set(uri, 1);
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'hdc', version: 1, text } });
    return uri;
  }

  /** Replaces the whole text (a full-document change), returning the new version. */
  async change(uri: string, text: string): Promise<number> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    return version;
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest(method, params) as Promise<R>;
  }

  /** Resolves with the first publication for uri (after `since` earlier ones) that satisfies accept. */
  waitForDiagnostics(uri: string, accept: (p: PublishDiagnosticsParams) => boolean = () => true, timeoutMs = 15_000, since = 0): Promise<PublishDiagnosticsParams> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching diagnostics for ${uri} within ${timeoutMs} ms; got ${JSON.stringify(this.diagnostics.get(uri)?.map((p) => p.version))}\n${this.stderr}`)), timeoutMs);
      const check = () => {
        const hit = (this.diagnostics.get(uri) ?? []).slice(since).find(accept);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else this.listeners.push(check);
      };
      check();
    });
  }

  /** Resolves with the first notification of that method (in `notifications`) that satisfies accept. */
  waitForNotification<P>(method: string, accept: (params: P) => boolean = () => true, timeoutMs = 15_000): Promise<P> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} notification within ${timeoutMs} ms\n${this.stderr}`)), timeoutMs);
      const check = () => {
        const hit = this.notifications.find((n) => n.method === method && accept(n.params as P));
        if (hit) {
          clearTimeout(timer);
          resolve(hit.params as P);
        } else this.listeners.push(check);
      };
      check();
    });
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
      await this.connection.sendNotification('exit');
    } catch {
      // the process may already be gone
    }
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
    this.connection.dispose();
  }
}

/** Splits a fixture at its `|` cursor marker: the text without it and the cursor position. */
export function withCursor(fixture: string): { text: string; offset: number; position: Position } {
  const offset = fixture.indexOf('|');
  if (offset < 0) throw new Error('fixture has no | cursor marker');
  const text = fixture.slice(0, offset) + fixture.slice(offset + 1);
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { text, offset, position: { line, character: offset - (before.lastIndexOf('\n') + 1) } };
}
