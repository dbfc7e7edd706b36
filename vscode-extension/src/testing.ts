// The Testing API: the `test` blocks of the workspace's .hdc files in VS Code's Test Explorer and
// gutter, run one, a file's or all through the language server's run commands (the real
// `hdc test --format json` in the project's folder). The blocks come from the server (`hdc/tests`,
// read from its parse), so the extension has no parser of its own. It uses only the API handed to
// it, so the tests drive it with a small fake of `vscode`.
import type * as vscode from 'vscode';

export const TESTS_REQUEST = 'hdc/tests';
export const RUN_TEST_COMMAND = 'hdc.server.runTest';
export const RUN_TESTS_COMMAND = 'hdc.server.runTests';

interface LspPosition { line: number; character: number }
interface LspRange { start: LspPosition; end: LspPosition }

/** What `hdc/tests` answers: a file's test blocks. */
export interface FileTests { uri: string; tests: Array<{ name: string; range: LspRange; selectionRange: LspRange }> }

/** What the run commands answer. */
export interface RunResult {
  passed: number;
  failed: number;
  skipped: number;
  error?: string;
  unsaved?: number;
  tests?: Array<{
    name: string;
    uri?: string;
    status: 'passed' | 'failed' | 'skipped';
    ms: number;
    reason?: string;
    failures: Array<{ message: string; uri?: string; range?: LspRange }>;
  }>;
}

/** The language server as the controller sees it. */
export interface TestServer {
  /** `hdc/tests` for a file, or for the workspace's files. */
  tests(uri?: string): Promise<FileTests[]>;
  /** A run command (workspace/executeCommand); cancelling the token stops the run. */
  run(command: string, args: unknown[], token: vscode.CancellationToken): Promise<RunResult>;
}

/** The part of `vscode` the controller uses. */
export type TestingApi = Pick<typeof vscode, 'tests' | 'Range' | 'Location' | 'TestMessage' | 'TestRunProfileKind' | 'Uri'>;

export interface TestingOptions {
  /** The label of a file's item (VS Code: the workspace-relative path). */
  label?: (uri: string) => string;
  /** Quiet period after an edit before a file's tests are read again. */
  delayMs?: number;
}

interface Known { uri: string; name?: string }

const testId = (uri: string, name: string) => `${uri}::${name}`;
/** The project a file belongs to: its folder (as the server and `hdc test` see it). */
const projectOf = (uri: string) => uri.slice(0, uri.lastIndexOf('/'));

export class HdcTests {
  readonly controller: vscode.TestController;
  readonly profile: vscode.TestRunProfile;
  /** What each item stands for: a file (uri), or a test (uri and name). */
  private known = new Map<string, Known>();
  /** The latest refresh asked for each file: an older answer arriving late is dropped. */
  private generation = new Map<string, number>();
  private timers = new Map<string, { timer: ReturnType<typeof setTimeout>; release: () => void }>();
  private pending = new Set<Promise<void>>();
  private waiting: Array<() => void> = [];

  constructor(private api: TestingApi, private server: () => TestServer | undefined, private options: TestingOptions = {}) {
    this.controller = api.tests.createTestController('hdc', 'hdc');
    this.controller.resolveHandler = (item) => (item ? Promise.resolve() : this.track(this.discover()));
    this.controller.refreshHandler = () => this.track(this.discover());
    // One profile, "Run", the default; `hdc test` has no debugger to attach.
    this.profile = this.controller.createRunProfile('Run', api.TestRunProfileKind.Run, (request, token) => this.run(request, token), true);
  }

  dispose(): void {
    for (const t of this.timers.values()) {
      clearTimeout(t.timer);
      t.release();
    }
    this.timers.clear();
    this.controller.dispose();
  }

  /** Reads every file's tests again (on start, after the server restarts, on Refresh). */
  async discover(): Promise<void> {
    const server = this.server();
    if (!server) return;
    const files = (await server.tests()).map((f) => ({ ...f, uri: this.key(f.uri) }));
    const seen = new Set(files.map((f) => f.uri));
    const stale: string[] = [];
    this.controller.items.forEach((item) => {
      if (!seen.has(this.known.get(item.id)?.uri ?? item.id)) stale.push(item.id);
    });
    for (const id of stale) this.removeFile(id);
    for (const f of files) this.setFile(f);
  }

  /** A URI as VS Code spells it (the server's may encode a drive letter differently). */
  private key(uri: string): string {
    return this.api.Uri.parse(uri).toString();
  }

  /** A file was opened, edited, created or changed on disk: its tests are read again after the quiet period. */
  changed(uri: string): void {
    if (!uri.startsWith('file:') || !uri.endsWith('.hdc')) return;
    uri = this.key(uri);
    const scheduled = this.timers.get(uri);
    clearTimeout(scheduled?.timer);
    // A change within the quiet period moves the refresh; settled() waits for it either way.
    let release = scheduled?.release;
    if (!release) void this.track(new Promise<void>((resolve) => (release = resolve)));
    const timer = setTimeout(() => {
      this.timers.delete(uri);
      void this.refreshFile(uri).finally(release);
    }, this.options.delayMs ?? 200);
    this.timers.set(uri, { timer, release: release! });
  }

  /** A file was deleted (or renamed away). */
  deleted(uri: string): void {
    uri = this.key(uri);
    const scheduled = this.timers.get(uri);
    clearTimeout(scheduled?.timer);
    scheduled?.release();
    this.timers.delete(uri);
    this.generation.set(uri, (this.generation.get(uri) ?? 0) + 1);
    this.removeFile(uri);
  }

  /** Resolves once no refresh is scheduled or on its way. */
  settled(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private track(p: Promise<void>): Promise<void> {
    const tracked = p.catch(() => {}).finally(() => {
      this.pending.delete(tracked);
      if (this.pending.size === 0) for (const w of this.waiting.splice(0)) w();
    });
    this.pending.add(tracked);
    return tracked;
  }

  async refreshFile(uri: string): Promise<void> {
    uri = this.key(uri);
    const server = this.server();
    if (!server) return;
    const generation = (this.generation.get(uri) ?? 0) + 1;
    this.generation.set(uri, generation);
    const [file] = await server.tests(uri);
    if (this.generation.get(uri) !== generation) return;
    this.setFile({ uri, tests: file?.tests ?? [] });
  }

  private range(r: LspRange): vscode.Range {
    return new this.api.Range(r.start.line, r.start.character, r.end.line, r.end.character);
  }

  /** A file's item with one child per test block, in the file's order; none when it has no tests. */
  private setFile(f: FileTests): void {
    if (f.tests.length === 0) return this.removeFile(f.uri);
    const uri = this.api.Uri.parse(f.uri);
    let fileItem = this.controller.items.get(f.uri);
    if (!fileItem) {
      fileItem = this.controller.createTestItem(f.uri, this.options.label?.(f.uri) ?? f.uri.slice(f.uri.lastIndexOf('/') + 1), uri);
      this.controller.items.add(fileItem);
      this.known.set(f.uri, { uri: f.uri });
    }
    const children: vscode.TestItem[] = [];
    const names = new Set<string>();
    for (const t of f.tests) {
      // Two blocks of one name are an error the server reports; the first stands for both.
      if (names.has(t.name)) continue;
      names.add(t.name);
      const id = testId(f.uri, t.name);
      const item = fileItem.children.get(id) ?? this.controller.createTestItem(id, t.name, uri);
      item.range = this.range(t.range);
      this.known.set(id, { uri: f.uri, name: t.name });
      children.push(item);
    }
    fileItem.children.forEach((old) => {
      if (!names.has(this.known.get(old.id)?.name ?? '')) this.known.delete(old.id);
    });
    fileItem.children.replace(children);
    const first = f.tests[0]!.range.start;
    fileItem.range = new this.api.Range(first.line, first.character, first.line, first.character);
  }

  private removeFile(uri: string): void {
    const item = this.controller.items.get(uri);
    if (!item) return;
    item.children.forEach((child) => this.known.delete(child.id));
    this.known.delete(uri);
    this.controller.items.delete(uri);
  }

  /** The tests a request asks for, by project: included items (a file: its tests) minus excluded ones. */
  private selected(request: vscode.TestRunRequest): Map<string, vscode.TestItem[]> {
    const excluded = new Set((request.exclude ?? []).map((i) => i.id));
    const tests: vscode.TestItem[] = [];
    const add = (item: vscode.TestItem) => {
      if (excluded.has(item.id)) return;
      const known = this.known.get(item.id);
      if (!known) return;
      if (known.name !== undefined) {
        if (!tests.includes(item)) tests.push(item);
      } else item.children.forEach(add);
    };
    if (request.include) request.include.forEach(add);
    else this.controller.items.forEach(add);
    const byProject = new Map<string, vscode.TestItem[]>();
    for (const t of tests) {
      const dir = projectOf(this.known.get(t.id)!.uri);
      byProject.set(dir, [...(byProject.get(dir) ?? []), t]);
    }
    return byProject;
  }

  /** Runs the request's tests: one `hdc test` per project (filtered by name when it is one test). */
  async run(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const run = this.controller.createTestRun(request, 'hdc test');
    try {
      const byProject = this.selected(request);
      for (const tests of byProject.values()) for (const t of tests) run.enqueued(t);
      for (const tests of byProject.values()) {
        if (token.isCancellationRequested) {
          for (const t of tests) run.skipped(t);
          continue;
        }
        await this.runProject(run, tests, token);
      }
    } finally {
      run.end();
    }
  }

  private async runProject(run: vscode.TestRun, tests: vscode.TestItem[], token: vscode.CancellationToken): Promise<void> {
    const server = this.server();
    const first = this.known.get(tests[0]!.id)!;
    for (const t of tests) run.started(t);
    const single = tests.length === 1 ? first.name! : null;
    let result: RunResult;
    try {
      if (!server) throw new Error('the hdc language server is not running');
      result = await server.run(single === null ? RUN_TESTS_COMMAND : RUN_TEST_COMMAND, [first.uri, single, { quiet: true }], token);
    } catch (e) {
      result = { passed: 0, failed: 0, skipped: 0, error: (e as Error)?.message ?? String(e) };
    }
    if (token.isCancellationRequested) {
      for (const t of tests) run.skipped(t);
      return;
    }
    const line = (s: string) => run.appendOutput(s.replace(/\r?\n/g, '\r\n') + '\r\n');
    if (result.error) {
      line(`hdc test: ${result.error}`);
      for (const t of tests) run.errored(t, new this.api.TestMessage(`hdc test: ${result.error}`));
      return;
    }
    const reported = new Map((result.tests ?? []).map((r) => [testId(r.uri ? this.key(r.uri) : first.uri, r.name), r]));
    for (const t of tests) {
      const r = reported.get(t.id);
      if (!r) {
        run.errored(t, new this.api.TestMessage('hdc test did not run this test: it reads the files on disk; save the file and run it again.'));
        continue;
      }
      if (r.status === 'passed') run.passed(t, r.ms);
      else if (r.status === 'skipped') {
        if (r.reason) line(`${r.name}: skipped (${r.reason})`);
        run.skipped(t);
      } else {
        const messages = r.failures.map((f) => {
          const message = new this.api.TestMessage(f.message);
          if (f.uri && f.range) message.location = new this.api.Location(this.api.Uri.parse(f.uri), this.range(f.range));
          else if (t.uri && t.range) message.location = new this.api.Location(t.uri, t.range);
          return message;
        });
        if (messages.length === 0) messages.push(new this.api.TestMessage('failed'));
        for (const f of r.failures) line(`${r.name}: ${f.message}`);
        run.failed(t, messages, r.ms);
      }
    }
    line(`hdc test: ${result.passed} passed, ${result.failed} failed${result.skipped ? `, ${result.skipped} skipped` : ''}`);
    if (result.unsaved) line(`${result.unsaved} file${result.unsaved === 1 ? ' has' : 's have'} unsaved changes the run did not see (hdc test reads the files on disk).`);
  }
}
