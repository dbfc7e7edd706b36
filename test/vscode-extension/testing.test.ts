// The Testing API controller against a small fake of the `vscode` surface it uses and a fake
// server: discovery, updates as files change, runs of one test, a file and everything, with
// results, failure locations and durations; a run profile "Run" and no debug profile.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type * as vscode from 'vscode';
import { HdcTests, type FileTests, type RunResult, type TestServer, type TestingApi } from '../../vscode-extension/src/testing.ts';

// ---- the fake `vscode` ----

class Range {
  constructor(readonly startLine: number, readonly startCharacter: number, readonly endLine: number, readonly endCharacter: number) {}
}
class Location {
  constructor(readonly uri: { toString(): string }, readonly range: Range) {}
}
class TestMessage {
  location?: Location;
  constructor(readonly message: string) {}
}
const Uri = { parse: (s: string) => ({ toString: () => s, fsPath: s.replace('file://', '') }) };

class Collection {
  readonly map = new Map<string, Item>();
  get size() {
    return this.map.size;
  }
  add(item: Item) {
    this.map.set(item.id, item);
  }
  delete(id: string) {
    this.map.delete(id);
  }
  get(id: string) {
    return this.map.get(id);
  }
  replace(items: Item[]) {
    this.map.clear();
    for (const i of items) this.add(i);
  }
  forEach(f: (item: Item) => void) {
    [...this.map.values()].forEach(f);
  }
}
class Item {
  readonly children = new Collection();
  range?: Range;
  constructor(readonly id: string, readonly label: string, readonly uri: { toString(): string }) {}
}

type Call = [string, string, ...unknown[]];
class Run {
  readonly calls: Call[] = [];
  output = '';
  ended = false;
  enqueued(i: Item) { this.calls.push(['enqueued', i.label]); }
  started(i: Item) { this.calls.push(['started', i.label]); }
  passed(i: Item, ms?: number) { this.calls.push(['passed', i.label, ms]); }
  skipped(i: Item) { this.calls.push(['skipped', i.label]); }
  failed(i: Item, m: TestMessage | TestMessage[], ms?: number) { this.calls.push(['failed', i.label, m, ms]); }
  errored(i: Item, m: TestMessage | TestMessage[]) { this.calls.push(['errored', i.label, m]); }
  appendOutput(s: string) { this.output += s; }
  end() { this.ended = true; }
  /** The final state of each test, by label. */
  results(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [what, label] of this.calls) if (!['enqueued', 'started'].includes(what)) out[label] = what;
    return out;
  }
}

class Controller {
  readonly items = new Collection();
  readonly profiles: Array<{ label: string; kind: number; isDefault?: boolean; run: (r: unknown, t: unknown) => Promise<void> }> = [];
  readonly runs: Run[] = [];
  resolveHandler?: (item?: Item) => Promise<void>;
  refreshHandler?: () => Promise<void>;
  disposed = false;
  constructor(readonly id: string, readonly label: string) {}
  createTestItem(id: string, label: string, uri: { toString(): string }) {
    return new Item(id, label, uri);
  }
  createRunProfile(label: string, kind: number, run: (r: unknown, t: unknown) => Promise<void>, isDefault?: boolean) {
    const p = { label, kind, run, isDefault };
    this.profiles.push(p);
    return p;
  }
  createTestRun() {
    const run = new Run();
    this.runs.push(run);
    return run;
  }
  dispose() {
    this.disposed = true;
  }
}

let controller: Controller;
const api = {
  tests: { createTestController: (id: string, label: string) => (controller = new Controller(id, label)) },
  Range, Location, TestMessage, Uri,
  TestRunProfileKind: { Run: 1, Debug: 2, Coverage: 3 },
} as unknown as TestingApi;

// ---- the fake server ----

const range = (line: number, from: number, toLine: number, to: number) => ({ start: { line, character: from }, end: { line: toLine, character: to } });
const block = (name: string, line: number) => ({ name, range: range(line, 0, line + 3, 1), selectionRange: range(line, 5, line, 7 + name.length) });

class FakeServer implements TestServer {
  files = new Map<string, FileTests['tests']>();
  requests: Array<string | undefined> = [];
  runs: Array<{ command: string; args: unknown[] }> = [];
  answer: (command: string, args: unknown[]) => RunResult = () => ({ passed: 0, failed: 0, skipped: 0, tests: [] });
  /** Holds `hdc/tests` answers until released (to answer out of order). */
  hold?: Promise<void>;
  async tests(uri?: string): Promise<FileTests[]> {
    this.requests.push(uri);
    const snapshot = uri ? [{ uri, tests: this.files.get(uri) ?? [] }] : [...this.files].filter(([, t]) => t.length).map(([u, t]) => ({ uri: u, tests: t }));
    if (this.hold) await this.hold;
    return snapshot;
  }
  async run(command: string, args: unknown[], token: vscode.CancellationToken): Promise<RunResult> {
    this.runs.push({ command, args });
    if (token.isCancellationRequested) throw new Error('cancelled');
    return this.answer(command, args);
  }
}

const A = 'file:///p/lab/a.hdc';
const B = 'file:///p/lab/b.hdc';
const C = 'file:///p/adt/c.hdc';
const token = (cancelled = false) => ({ isCancellationRequested: cancelled, onCancellationRequested: () => ({ dispose() {} }) }) as unknown as vscode.CancellationToken;

function setup() {
  const server = new FakeServer();
  server.files.set(A, [block('filed', 2), block('answered AE', 10)]);
  server.files.set(B, [block('b one', 0)]);
  server.files.set(C, [block('admit', 4)]);
  const state: { server?: FakeServer } = { server };
  const tests = new HdcTests(api, () => state.server, { delayMs: 0, label: (uri) => uri.replace('file:///p/', '') });
  return { server, tests, controller, state };
}

const tree = (c: Controller) => [...c.items.map.values()].map((f) => [f.label, [...f.children.map.values()].map((t) => t.label)]);
const find = (c: Controller, uri: string, name?: string) => {
  const file = c.items.get(uri)!;
  return (name === undefined ? file : file.children.get(`${uri}::${name}`)!) as unknown as vscode.TestItem;
};
const request = (include?: vscode.TestItem[], exclude?: vscode.TestItem[]) => ({ include, exclude }) as unknown as vscode.TestRunRequest;

test('one run profile, "Run", the default; no debug profile', () => {
  const { controller: c } = setup();
  assert.equal(c.profiles.map((p) => [p.label, p.kind, p.isDefault]), [['Run', 1, true]]);
  assert.is(c.id, 'hdc');
});

test('discovery: a file item per file with tests, a test item per block with its range', async () => {
  const { controller: c, server } = setup();
  await c.resolveHandler!();
  assert.equal(server.requests, [undefined]);
  assert.equal(tree(c), [['lab/a.hdc', ['filed', 'answered AE']], ['lab/b.hdc', ['b one']], ['adt/c.hdc', ['admit']]]);
  const t = c.items.get(A)!.children.get(`${A}::answered AE`)!;
  assert.equal(t.range, new Range(10, 0, 13, 1));
  assert.is(t.uri.toString(), A);
});

test('edits, new, changed and deleted files keep the tree current; a late answer never wins', async () => {
  const { controller: c, server, tests } = setup();
  await tests.discover();
  // An edit adds a test and moves one.
  server.files.set(A, [block('filed', 4), block('answered AE', 12), block('new one', 20)]);
  const filed = c.items.get(A)!.children.get(`${A}::filed`);
  tests.changed(A);
  await tests.settled();
  assert.equal(tree(c)[0], ['lab/a.hdc', ['filed', 'answered AE', 'new one']]);
  assert.is(c.items.get(A)!.children.get(`${A}::filed`), filed, 'an item keeps its identity across edits');
  assert.equal(filed!.range, new Range(4, 0, 7, 1));
  // Several changes in the quiet period: one request.
  const before = server.requests.length;
  tests.changed(B);
  tests.changed(B);
  tests.changed(B);
  await tests.settled();
  assert.is(server.requests.length, before + 1);
  // A new file on disk; a file whose last test went; a deleted file.
  const D = 'file:///p/lab/d.hdc';
  server.files.set(D, [block('d', 0)]);
  tests.changed(D);
  server.files.set(B, []);
  tests.changed(B);
  server.files.delete(C);
  tests.deleted(C);
  await tests.settled();
  assert.equal(tree(c), [['lab/a.hdc', ['filed', 'answered AE', 'new one']], ['lab/d.hdc', ['d']]]);
  // Not .hdc, not a file: ignored.
  tests.changed('untitled:Untitled-1');
  tests.changed('file:///p/readme.md');
  await tests.settled();
  assert.is(c.items.size, 2);
  // An older answer arriving after a newer one is dropped.
  let release!: () => void;
  server.hold = new Promise((r) => (release = r));
  server.files.set(A, [block('old', 0)]);
  const older = tests.refreshFile(A);
  server.hold = undefined;
  server.files.set(A, [block('newest', 0)]);
  await tests.refreshFile(A);
  release();
  await older;
  assert.equal(tree(c)[0], ['lab/a.hdc', ['newest']]);
  // Refresh reads everything again.
  server.files.set(B, [block('back', 0)]);
  await c.refreshHandler!();
  assert.equal(tree(c).map(([f]) => f), ['lab/a.hdc', 'lab/d.hdc', 'lab/b.hdc']);
});

test('run one test: the server\'s runTest with its name; passed with its duration', async () => {
  const { controller: c, server, tests } = setup();
  await tests.discover();
  server.answer = () => ({ passed: 1, failed: 0, skipped: 0, tests: [{ name: 'filed', uri: A, status: 'passed', ms: 42, failures: [] }] });
  await tests.run(request([find(c, A, 'filed')]), token());
  assert.equal(server.runs, [{ command: 'hdc.server.runTest', args: [A, 'filed', { quiet: true }] }]);
  const run = c.runs[0]!;
  assert.equal(run.calls, [['enqueued', 'filed'], ['started', 'filed'], ['passed', 'filed', 42]]);
  assert.ok(run.ended);
  assert.match(run.output, 'hdc test: 1 passed, 0 failed\r\n');
});

test('run a file: its project\'s tests once; the failing expectation\'s message and location; duration', async () => {
  const { controller: c, server, tests } = setup();
  await tests.discover();
  server.answer = () => ({
    passed: 2, failed: 1, skipped: 0,
    tests: [
      { name: 'filed', uri: A, status: 'failed', ms: 31, failures: [{ message: 'field mrn: expected "1", got "2"', uri: A, range: range(5, 2, 5, 30) }] },
      { name: 'answered AE', uri: A, status: 'passed', ms: 7, failures: [] },
      // Another file of the project ran too (hdc test runs the folder): not asked for, not reported.
      { name: 'b one', uri: B, status: 'passed', ms: 3, failures: [] },
    ],
  });
  await tests.run(request([find(c, A)]), token());
  assert.equal(server.runs, [{ command: 'hdc.server.runTests', args: [A, null, { quiet: true }] }]);
  const run = c.runs[0]!;
  assert.equal(run.results(), { filed: 'failed', 'answered AE': 'passed' });
  const failed = run.calls.find((x) => x[0] === 'failed')!;
  const [message] = failed[2] as TestMessage[];
  assert.is(message!.message, 'field mrn: expected "1", got "2"');
  assert.is(message!.location!.uri.toString(), A);
  assert.equal(message!.location!.range, new Range(5, 2, 5, 30));
  assert.is(failed[3], 31);
  assert.match(run.output, 'filed: field mrn');
});

test('run all: one hdc test per project; skipped, not reported and excluded tests', async () => {
  const { controller: c, server, tests } = setup();
  await tests.discover();
  server.answer = (_command, args) => args[0] === C
    ? { passed: 0, failed: 0, skipped: 1, tests: [{ name: 'admit', uri: C, status: 'skipped', ms: 0, reason: 'a test needs send or launch', failures: [] }] }
    : { passed: 1, failed: 0, skipped: 0, unsaved: 1, tests: [{ name: 'filed', uri: A, status: 'passed', ms: 5, failures: [] }] };
  await tests.run(request(undefined, [find(c, B)]), token());
  assert.equal(server.runs.map((r) => [r.command, r.args[0]]), [['hdc.server.runTests', A], ['hdc.server.runTest', C]]);
  const run = c.runs[0]!;
  assert.equal(run.results(), { filed: 'passed', 'answered AE': 'errored', admit: 'skipped' });
  const errored = run.calls.find((x) => x[0] === 'errored')!;
  assert.match((errored[2] as TestMessage).message, 'save the file');
  assert.match(run.output, 'admit: skipped (a test needs send or launch)');
  assert.match(run.output, '1 file has unsaved changes the run did not see');
});

test('a project that does not compile, a stopped server and a cancelled run', async () => {
  const { controller: c, server, tests } = setup();
  await tests.discover();
  server.answer = () => ({ passed: 0, failed: 0, skipped: 0, error: 'the files do not compile (1 error)' });
  await tests.run(request([find(c, C)]), token());
  const [, label, message] = c.runs[0]!.calls.find((x) => x[0] === 'errored')!;
  assert.is(label, 'admit');
  assert.is((message as TestMessage).message, 'hdc test: the files do not compile (1 error)');
  // Cancelled before it started: nothing runs.
  await tests.run(request(), token(true));
  assert.equal(Object.values(c.runs[1]!.results()), ['skipped', 'skipped', 'skipped', 'skipped']);
  assert.is(server.runs.length, 1);
  // The server stopped: every test errs, saying so; the tree stays.
  const { controller: c2, tests: t2, state } = setup();
  await t2.discover();
  state.server = undefined;
  await t2.discover();
  assert.is(c2.items.size, 3);
  await t2.run(request([find(c2, A)]), token());
  const calls = c2.runs[0]!.calls.filter((x) => x[0] === 'errored');
  assert.equal(calls.map((x) => x[1]), ['filed', 'answered AE']);
  assert.match((calls[0]![2] as TestMessage).message, 'not running');
  t2.dispose();
  assert.ok(c2.disposed);
});

test.run();
