// Entry of the language server process: `hdc lsp --stdio`, and the bundle the VS Code extension
// starts (stdio or Node IPC, chosen by the client through the command line).
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node.js';
import { startServer, type ServerOptions } from './server.ts';

/** Serves until the client sends exit (or closes the pipe); resolves then. */
export function runStdioServer(options: ServerOptions = {}): Promise<void> {
  // createConnection reads --stdio / --node-ipc / --socket from the command line.
  if (!process.argv.some((a) => a === '--stdio' || a === '--node-ipc' || a.startsWith('--socket') || a.startsWith('--pipe'))) process.argv.push('--stdio');
  const connection = createConnection(ProposedFeatures.all);
  // Anything printed to stdout would corrupt the protocol stream: route console output to the client log.
  console.log = (...a: unknown[]) => connection.console.log(a.map(String).join(' '));
  console.info = console.log;
  console.warn = (...a: unknown[]) => connection.console.warn(a.map(String).join(' '));
  startServer(connection, options);
  return new Promise((resolve) => connection.onExit(() => resolve()));
}

const isEntry = process.argv[1] !== undefined && /(?:language-server[\\/]main\.ts|server\.c?js)$/.test(process.argv[1]);
if (isEntry) void runStdioServer();
