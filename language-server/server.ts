// The language server: wires the LSP connection to the document store, the analyzer (the
// compiler's phases) and one handler per feature.
import {
  CodeActionKind,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type CancellationToken,
  type Connection,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { findHdcFiles } from '../compiler/api.ts';
import { Analyzer } from './analysis.ts';
import { CheckScheduler } from './check-scheduler.ts';
import { Workspace, toPosixPath, uriToPath } from './workspace.ts';
import { DiagnosticPublisher } from './handlers/diagnostics.ts';
import { completion, completionTriggerCharacters } from './handlers/completion.ts';
import { hover } from './handlers/hover.ts';
import { definition } from './handlers/definition.ts';
import { references } from './handlers/references.ts';
import { prepareRename, rename } from './handlers/rename.ts';
import { documentSymbols } from './handlers/document-symbol.ts';
import { foldingRanges } from './handlers/folding-range.ts';
import { formatting } from './handlers/formatting.ts';
import { codeActions } from './handlers/code-action.ts';

export const DEFAULT_DEBOUNCE_MS = 100;

export interface ServerOptions {
  /** Quiet period after an edit before the project is checked (initializationOptions.debounceMs overrides). */
  debounceMs?: number;
}

/** What every handler reads: the document store and the analyzer over it. */
export interface ServerContext {
  workspace: Workspace;
  analyzer: Analyzer;
  documents: TextDocuments<TextDocument>;
  /** An open document, or the file's text on disk (navigation may ask about files not open). */
  document(uri: string): TextDocument | undefined;
}

export function startServer(connection: Connection, options: ServerOptions = {}): void {
  const workspace = new Workspace();
  const analyzer = new Analyzer(workspace);
  const documents = new TextDocuments(TextDocument);
  const ctx: ServerContext = {
    workspace, analyzer, documents,
    document: (uri) => {
      const open = documents.get(uri);
      if (open) return open;
      const text = workspace.text(uriToPath(uri));
      return text === undefined ? undefined : TextDocument.create(uri, 'hdc', 0, text);
    },
  };
  const publisher = new DiagnosticPublisher(connection, (path) => workspace.document(path)?.version);
  const scheduler = new CheckScheduler(
    (dir, token) => {
      if (token.cancelled) return;
      const analysis = analyzer.project(dir);
      // A newer edit arrived while this check ran: its own check will publish.
      if (token.cancelled) return;
      publisher.publish(analysis);
    },
    options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    (e) => connection.console.error(`hdc: check failed: ${(e as Error)?.stack ?? e}`),
  );
  let roots: string[] = [];
  let watchDynamically = false;

  const checkAfterChange = (path: string) => {
    for (const dir of analyzer.projectsReading(path)) scheduler.schedule(dir);
  };

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const init = (params.initializationOptions ?? {}) as { debounceMs?: number };
    if (typeof init.debounceMs === 'number' && init.debounceMs >= 0) scheduler.delayMs = init.debounceMs;
    roots = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri));
    if (!roots.length && params.rootUri) roots = [uriToPath(params.rootUri)];
    watchDynamically = !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { triggerCharacters: completionTriggerCharacters, resolveProvider: false },
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        foldingRangeProvider: true,
        documentFormattingProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      },
      serverInfo: { name: 'hdc-language-server' },
    };
  });

  connection.onInitialized(() => {
    if (watchDynamically) {
      void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.hdc' }] });
    }
    // Check the workspace's projects once, so problems in unopened files show up too.
    const dirs = new Set(findHdcFiles(roots.filter(Boolean)).map((f) => workspace.projectOf(toPosixPath(f))));
    for (const dir of dirs) scheduler.schedule(dir, 0);
  });

  connection.onDidChangeConfiguration((change) => {
    const ms = (change.settings as { hdc?: { diagnostics?: { debounceMs?: number } } } | undefined)?.hdc?.diagnostics?.debounceMs;
    if (typeof ms === 'number' && ms >= 0) scheduler.delayMs = ms;
  });

  // TextDocuments reports an open as "opened" then "content changed"; the open is checked at once
  // (nobody is typing yet), real changes after the quiet period.
  const justOpened = new Set<string>();
  documents.onDidOpen((e) => {
    workspace.setOpen(e.document);
    justOpened.add(e.document.uri);
    for (const dir of analyzer.projectsReading(uriToPath(e.document.uri))) scheduler.schedule(dir, 0);
  });
  documents.onDidChangeContent((e) => {
    workspace.setOpen(e.document);
    if (justOpened.delete(e.document.uri)) return;
    checkAfterChange(uriToPath(e.document.uri));
  });
  documents.onDidClose((e) => {
    workspace.close(e.document.uri);
    checkAfterChange(uriToPath(e.document.uri));
  });
  connection.onDidChangeWatchedFiles((e) => {
    for (const change of e.changes) {
      const path = uriToPath(change.uri);
      workspace.diskChanged(path);
      if (change.type === FileChangeType.Deleted) analyzer.forget(workspace.projectOf(path));
      checkAfterChange(path);
    }
  });

  // Requests answer from the current text: a stale cache is recompiled first (Analyzer.forFile).
  const guard = <P, R>(fallback: R, run: (params: P, token: CancellationToken) => R) => (params: P, token: CancellationToken): R => {
    if (token.isCancellationRequested) return fallback;
    try {
      return run(params, token);
    } catch (e) {
      // Errors meant for the user (an invalid new name) go back as the response.
      if (e instanceof ResponseError) throw e;
      connection.console.error(`hdc: ${(e as Error)?.stack ?? e}`);
      return fallback;
    }
  };

  connection.onCompletion(guard(null, (p) => completion(ctx, p)));
  connection.onHover(guard(null, (p) => hover(ctx, p)));
  connection.onDefinition(guard(null, (p) => definition(ctx, p)));
  connection.onReferences(guard(null, (p) => references(ctx, p)));
  connection.onPrepareRename(guard(null, (p) => prepareRename(ctx, p)));
  connection.onRenameRequest(guard(null, (p) => rename(ctx, p)));
  connection.onDocumentSymbol(guard(null, (p) => {
    const file = analyzer.parsed(uriToPath(p.textDocument.uri));
    return file ? documentSymbols(file) : [];
  }));
  connection.onFoldingRanges(guard(null, (p) => {
    const file = analyzer.parsed(uriToPath(p.textDocument.uri));
    return file ? foldingRanges(file) : [];
  }));
  connection.onDocumentFormatting(guard(null, (p) => formatting(ctx, p)));
  connection.onCodeAction(guard(null, (p) => codeActions(p)));

  connection.onShutdown(() => scheduler.dispose());
  documents.listen(connection);
  connection.listen();
}
