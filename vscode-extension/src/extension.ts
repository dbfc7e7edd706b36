// The VS Code side of hdc: starts the bundled language server (or a configured `hdc lsp --stdio`),
// adds the "Compile project" and "Run tests" tasks (their output read by the $hdc problem matcher)
// a status bar item, and the Testing API (testing.ts). All language knowledge lives in the server;
// the "Run test" code lenses are its commands, and the Test Explorer runs tests through them too.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LanguageClient, State, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { statusView, type ServerStatus } from './status';
import { HdcTests, TESTS_REQUEST, type FileTests, type RunResult, type TestServer } from './testing';

let client: LanguageClient | undefined;
const status: ServerStatus = { server: 'starting', checking: false, errors: 0, warnings: 0 };
let statusItem: vscode.StatusBarItem | undefined;
let tests: HdcTests | undefined;

/** The running server, as the Test Explorer asks it for test blocks and runs. */
function testServer(): TestServer | undefined {
  const c = client;
  if (!c || c.state !== State.Running) return undefined;
  return {
    tests: (uri) => c.sendRequest<FileTests[]>(TESTS_REQUEST, uri ? { textDocument: { uri } } : {}),
    run: (command, args, token) => c.sendRequest<RunResult>('workspace/executeCommand', { command, arguments: args }, token),
  };
}

function showStatus(): void {
  if (!statusItem) return;
  const view = statusView(status);
  statusItem.text = view.text;
  statusItem.tooltip = view.tooltip;
  statusItem.command = view.command;
  statusItem.show();
}

/** Errors and warnings the server published for .hdc files. */
function countProblems(): void {
  let errors = 0;
  let warnings = 0;
  for (const [, list] of vscode.languages.getDiagnostics()) {
    for (const d of list) {
      if (d.source !== 'hdc') continue;
      if (d.severity === vscode.DiagnosticSeverity.Error) errors++;
      else if (d.severity === vscode.DiagnosticSeverity.Warning) warnings++;
    }
  }
  status.errors = errors;
  status.warnings = warnings;
  showStatus();
}

function serverOptions(context: vscode.ExtensionContext): ServerOptions {
  const custom = vscode.workspace.getConfiguration('hdc').get<string[]>('server.command') ?? [];
  if (custom.length > 0) {
    const [command, ...args] = custom;
    return { command: command!, args, options: { shell: process.platform === 'win32' } };
  }
  const module = context.asAbsolutePath('dist/server.js');
  return {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
}

function clientOptions(): LanguageClientOptions {
  const config = vscode.workspace.getConfiguration('hdc');
  return {
    documentSelector: [
      { scheme: 'file', language: 'hdc' },
      { scheme: 'untitled', language: 'hdc' },
    ],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.hdc'), configurationSection: 'hdc' },
    // The CLI the server runs for the "Run test" lenses (the same one the tasks use).
    // The server announces its checks (hdc/checking) for the status bar.
    initializationOptions: { debounceMs: config.get<number>('diagnostics.debounceMs', 100), cli: cliArgv(projectFolder() ?? process.cwd()), checkingNotifications: true },
    outputChannelName: 'hdc',
  };
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  client = new LanguageClient('hdc', 'hdc language server', serverOptions(context), clientOptions());
  client.onDidChangeState((e) => {
    status.server = e.newState === State.Running ? 'running' : e.newState === State.Starting ? 'starting' : 'stopped';
    if (status.server !== 'running') status.checking = false;
    showStatus();
  });
  await client.start();
  // The test blocks are read again from the (re)started server.
  void tests?.discover();
  // The server says when it checks (hdc/checking); the counts come from what it published.
  client.onNotification('hdc/checking', (p: { checking: boolean }) => {
    status.checking = p.checking;
    showStatus();
  });
}

/** The folder a command runs in: the given file's folder, the active .hdc file's, else the first workspace folder. */
function projectFolder(file?: string): string | undefined {
  if (file) return vscode.Uri.joinPath(vscode.Uri.parse(file), '..').fsPath;
  const doc = vscode.window.activeTextEditor?.document;
  if (doc?.languageId === 'hdc' && doc.uri.scheme === 'file') return vscode.Uri.joinPath(doc.uri, '..').fsPath;
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** Runs `hdc <args>` as a task, so its output lands in the terminal panel and it can be re-run. */
/**
 * The CLI: the configured one, else the workspace's own (node_modules/.bin/hdc), else `hdc` on the
 * PATH. Never `npx hdc`: outside this project npx would fetch an unrelated package of that name.
 */
function cliArgv(cwd: string): string[] {
  const configured = vscode.workspace.getConfiguration('hdc').get<string>('cli.path', '').trim();
  if (configured) return [configured];
  const folders = [cwd, ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath)];
  for (const folder of folders) {
    for (let dir = folder; ; dir = dirname(dir)) {
      const local = join(dir, 'node_modules', '.bin', process.platform === 'win32' ? 'hdc.cmd' : 'hdc');
      if (existsSync(local)) return [local];
      if (dirname(dir) === dir) break;
    }
  }
  return ['hdc'];
}

/** The CLI as a shell command (a path with spaces quoted). */
function cliCommand(cwd: string): string {
  const [cli] = cliArgv(cwd);
  return /[\s"]/.test(cli!) ? JSON.stringify(cli) : cli!;
}

async function runHdc(name: string, args: string[], file?: string): Promise<void> {
  const cwd = projectFolder(file);
  if (!cwd) {
    void vscode.window.showWarningMessage('hdc: open a folder or an .hdc file first.');
    return;
  }
  const cli = cliCommand(cwd);
  const scope = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(cwd)) ?? vscode.TaskScope.Workspace;
  const task = new vscode.Task(
    { type: 'hdc', command: args[0]! },
    scope,
    name,
    'hdc',
    new vscode.ShellExecution(`${cli} ${args.map((a) => JSON.stringify(a)).join(' ')}`, { cwd }),
    // `file:LINE:COL: error HDCnnnn: …` lines land in the Problems panel.
    ['$hdc'],
  );
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, clear: true };
  await vscode.tasks.executeTask(task);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  showStatus();
  context.subscriptions.push(
    statusItem,
    vscode.languages.onDidChangeDiagnostics(() => countProblems()),
    vscode.commands.registerCommand('hdc.compileProject', () => runHdc('compile project', ['compile'])),
    // The tests of the active project, as a task in the terminal.
    vscode.commands.registerCommand('hdc.runTests', (file?: string) => runHdc('run tests', ['test'], typeof file === 'string' ? file : undefined)),
    vscode.commands.registerCommand('hdc.restartServer', async () => {
      await client?.stop();
      await startClient(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('hdc.server.command') || e.affectsConfiguration('hdc.diagnostics.debounceMs')) {
        await client?.stop();
        await startClient(context);
      }
    }),
  );
  tests = new HdcTests(vscode, testServer, { label: (uri) => vscode.workspace.asRelativePath(vscode.Uri.parse(uri)) });
  const hdcFiles = vscode.workspace.createFileSystemWatcher('**/*.hdc');
  const isHdc = (doc: vscode.TextDocument) => doc.languageId === 'hdc' && doc.uri.scheme === 'file';
  context.subscriptions.push(
    tests,
    hdcFiles,
    hdcFiles.onDidCreate((uri) => tests?.changed(uri.toString())),
    hdcFiles.onDidChange((uri) => tests?.changed(uri.toString())),
    hdcFiles.onDidDelete((uri) => tests?.deleted(uri.toString())),
    vscode.workspace.onDidOpenTextDocument((doc) => isHdc(doc) && tests?.changed(doc.uri.toString())),
    vscode.workspace.onDidChangeTextDocument((e) => isHdc(e.document) && tests?.changed(e.document.uri.toString())),
    // Closing an unsaved file: its tests are those on disk again.
    vscode.workspace.onDidCloseTextDocument((doc) => isHdc(doc) && tests?.changed(doc.uri.toString())),
  );
  await startClient(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
