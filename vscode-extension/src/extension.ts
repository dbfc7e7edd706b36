// The VS Code side of hdc: starts the bundled language server (or a configured `hdc lsp --stdio`)
// and adds the "Compile project" and "Run tests" commands. All language knowledge lives in the server.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

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
    initializationOptions: { debounceMs: config.get<number>('diagnostics.debounceMs', 100) },
    outputChannelName: 'hdc',
  };
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  client = new LanguageClient('hdc', 'hdc language server', serverOptions(context), clientOptions());
  await client.start();
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
function cliCommand(cwd: string): string {
  const configured = vscode.workspace.getConfiguration('hdc').get<string>('cli.path', '').trim();
  if (configured) return configured;
  const folders = [cwd, ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath)];
  for (const folder of folders) {
    for (let dir = folder; ; dir = dirname(dir)) {
      const local = join(dir, 'node_modules', '.bin', process.platform === 'win32' ? 'hdc.cmd' : 'hdc');
      if (existsSync(local)) return JSON.stringify(local);
      if (dirname(dir) === dir) break;
    }
  }
  return 'hdc';
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
  );
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, clear: true };
  await vscode.tasks.executeTask(task);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand('hdc.compileProject', () => runHdc('compile project', ['compile'])),
    // With a file (the "Run all tests" code lens) the tests of its folder; else the active project's.
    vscode.commands.registerCommand('hdc.runTests', (file?: string) => runHdc('run tests', ['test'], typeof file === 'string' ? file : undefined)),
    // The "Run test" code lens: one test block by name.
    vscode.commands.registerCommand('hdc.runTest', (file: string, testName: string) => runHdc(`test ${testName}`, ['test', '--filter', testName], file)),
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
  await startClient(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
