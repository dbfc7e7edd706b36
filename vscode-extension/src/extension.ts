// The VS Code side of hdc: starts the bundled language server (or a configured `hdc lsp --stdio`)
// and adds the "Compile project" and "Run tests" commands. All language knowledge lives in the server.
import * as vscode from 'vscode';
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

/** The folder a command runs in: the active .hdc file's project folder, else the first workspace folder. */
function projectFolder(): string | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  if (doc?.languageId === 'hdc' && doc.uri.scheme === 'file') return vscode.Uri.joinPath(doc.uri, '..').fsPath;
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** Runs `hdc <args>` as a task, so its output lands in the terminal panel and it can be re-run. */
async function runHdc(name: string, args: string[]): Promise<void> {
  const cwd = projectFolder();
  if (!cwd) {
    void vscode.window.showWarningMessage('hdc: open a folder or an .hdc file first.');
    return;
  }
  const cli = vscode.workspace.getConfiguration('hdc').get<string>('cli.path', 'npx hdc');
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
    vscode.commands.registerCommand('hdc.runTests', () => runHdc('run tests', ['test'])),
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
