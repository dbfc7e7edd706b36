// The language server: wires the LSP connection to the document store, the analyzer (the
// compiler's phases) and one handler per feature.
import {
  CodeActionKind,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  MessageType,
  ShowMessageNotification,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type CancellationToken,
  type Connection,
  type InitializeParams,
  type InitializeResult,
  type WorkDoneProgressServerReporter,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { readFileSync } from 'node:fs';
import { findHdcFiles } from '../compiler/api.ts';
import { Analyzer } from './analysis.ts';
import { CheckScheduler } from './check-scheduler.ts';
import { Workspace, toPosixPath, uriToPath } from './workspace.ts';
import { CheckThread } from './check-thread.ts';
import { FolderWatcher } from './folder-watcher.ts';
import { DiagnosticPublisher, type ProjectCheck } from './handlers/diagnostics.ts';
import { completion, completionTriggerCharacters } from './handlers/completion.ts';
import { hover } from './handlers/hover.ts';
import { definition } from './handlers/definition.ts';
import { references } from './handlers/references.ts';
import { prepareRename, rename } from './handlers/rename.ts';
import { documentSymbols } from './handlers/document-symbol.ts';
import { foldingRanges } from './handlers/folding-range.ts';
import { formatting } from './handlers/formatting.ts';
import { codeActions } from './handlers/code-action.ts';
import { codeLenses } from './handlers/code-lens.ts';
import { documentLinks } from './handlers/document-link.ts';
import { signatureHelp, signatureTriggerCharacters } from './handlers/signature-help.ts';
import { workspaceSymbols } from './handlers/workspace-symbol.ts';
import { semanticTokens, semanticTokensLegend } from './handlers/semantic-tokens.ts';
import { defaultCli, runTests, RUN_TEST_COMMAND, RUN_TESTS_COMMAND } from './test-runner.ts';
import { testBlocks, TESTS_REQUEST, type FileTests, type TestsParams } from './handlers/test-items.ts';
import type { Diagnostic } from '../compiler/diagnostics.ts';

export const DEFAULT_DEBOUNCE_MS = 100;

const readDisk = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};
/** After this long without edits or requests, stale analyses the requests use are compiled again. */
const IDLE_REFRESH_MS = 1500;

export interface ServerOptions {
  /** Quiet period after an edit before the project is checked (initializationOptions.debounceMs overrides). */
  debounceMs?: number;
  /** false: checks run on the thread that answers requests (initializationOptions.checkThread overrides). */
  checkThread?: boolean;
}

/** What every handler reads: the document store and the analyzer over it. */
export interface ServerContext {
  workspace: Workspace;
  analyzer: Analyzer;
  documents: TextDocuments<TextDocument>;
  /** An open document, or the file's text on disk (navigation may ask about files not open). */
  document(uri: string): TextDocument | undefined;
  /** The client accepts snippets in completion items (textDocument.completion.completionItem.snippetSupport). */
  snippetSupport: boolean;
}

export function startServer(connection: Connection, options: ServerOptions = {}): void {
  const workspace = new Workspace();
  const analyzer = new Analyzer(workspace);
  const documents = new TextDocuments(TextDocument);
  const ctx: ServerContext = {
    workspace, analyzer, documents, snippetSupport: false,
    document: (uri) => {
      const open = documents.get(uri);
      if (open) return open;
      const text = workspace.text(uriToPath(uri));
      return text === undefined ? undefined : TextDocument.create(uri, 'hdc', 0, text);
    },
  };
  /** Failing expectations of the last test run, by file, until the file is edited. */
  const testFailures = new Map<string, Diagnostic[]>();
  const publisher = new DiagnosticPublisher(connection, (path) => workspace.document(path)?.version, (path) => testFailures.get(path) ?? []);
  let cli = defaultCli();
  const log = (message: string) => connection.console.error(message);
  let thread: CheckThread | undefined;
  let useThread = options.checkThread ?? true;
  /** Files each project's last check read (its own and imports), to know what an edit affects. */
  const reads = new Map<string, Set<string>>();

  // Checks run in the check thread: the thread answering requests only publishes the result.
  const runCheck = async (dir: string): Promise<ProjectCheck> => {
    if (!useThread) {
      const a = analyzer.project(dir);
      reads.set(dir, new Set(a.texts.keys()));
      return { dir: a.dir, own: a.own, diagnostics: a.result.diagnostics };
    }
    thread ??= new CheckThread(workspace, log);
    const r = await thread.check(dir);
    reads.set(dir, new Set(r.read));
    return r;
  };
  // `hdc/checking` tells a client that asks for it (the VS Code status bar) when checks run;
  // `$/progress` reports the workspace's first check, project by project.
  let running = 0;
  let announceChecks = false;
  const checking = (delta: number) => {
    const before = running > 0;
    running += delta;
    if (announceChecks && before !== running > 0) void connection.sendNotification('hdc/checking', { checking: running > 0 });
  };
  let loading: { progress: WorkDoneProgressServerReporter; left: Set<string>; total: number } | undefined;
  const loaded = (dir: string) => {
    if (!loading?.left.delete(dir)) return;
    const done = loading.total - loading.left.size;
    loading.progress.report(Math.round((done / loading.total) * 100), `${done} of ${loading.total} projects checked`);
    if (loading.left.size === 0) {
      loading.progress.done();
      loading = undefined;
    }
  };
  const scheduler = new CheckScheduler(
    async (dir, token) => {
      if (token.cancelled) return;
      checking(1);
      let check: ProjectCheck;
      try {
        check = await runCheck(dir);
      } finally {
        checking(-1);
      }
      loaded(dir);
      // A newer edit arrived while this check ran: its own check will publish.
      if (token.cancelled) return;
      publisher.publish(check);
      refreshWhenIdle();
    },
    options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    (e) => log(`hdc: check failed: ${(e as Error)?.stack ?? e}`),
  );

  // The analyses requests read (completion, hover, navigation) are compiled on this thread only
  // when a request needs one, or once the author pauses: never while they type.
  let lastActivity = performance.now();
  let idleTimer: NodeJS.Timeout | undefined;
  const active = () => void (lastActivity = performance.now());
  function refreshWhenIdle(): void {
    if (idleTimer) return;
    idleTimer = setTimeout(() => {
      idleTimer = undefined;
      const quiet = performance.now() - lastActivity;
      if (quiet < IDLE_REFRESH_MS) return refreshWhenIdle();
      // The projects requests use, and those of open documents (their first completion then finds one ready).
      const dirs = new Set([...analyzer.cachedProjects(), ...workspace.openPaths().map((p) => workspace.projectOf(p))]);
      for (const dir of dirs) if (analyzer.isStale(dir)) analyzer.project(dir);
    }, IDLE_REFRESH_MS);
    idleTimer.unref();
  }

  let roots: string[] = [];
  let watchDynamically = false;
  let progressSupport = false;
  let watcher: FolderWatcher | undefined;

  const projectsAffectedBy = (path: string) => {
    const dirs = new Set(analyzer.projectsReading(path));
    for (const [dir, files] of reads) if (files.has(path)) dirs.add(dir);
    return dirs;
  };
  const checkAfterChange = (path: string) => {
    for (const dir of projectsAffectedBy(path)) scheduler.schedule(dir);
  };

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const init = (params.initializationOptions ?? {}) as { debounceMs?: number; checkThread?: boolean; cli?: string[]; checkingNotifications?: boolean };
    announceChecks = init.checkingNotifications === true;
    if (Array.isArray(init.cli) && init.cli.length > 0 && init.cli.every((a) => typeof a === 'string')) cli = init.cli;
    progressSupport = !!params.capabilities.window?.workDoneProgress;
    if (typeof init.debounceMs === 'number' && init.debounceMs >= 0) scheduler.delayMs = init.debounceMs;
    if (typeof init.checkThread === 'boolean') useThread = init.checkThread;
    roots = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri));
    if (!roots.length && params.rootUri) roots = [uriToPath(params.rootUri)];
    watchDynamically = !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    ctx.snippetSupport = !!params.capabilities.textDocument?.completion?.completionItem?.snippetSupport;
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
        codeLensProvider: { resolveProvider: false },
        documentLinkProvider: { resolveProvider: false },
        workspaceSymbolProvider: true,
        signatureHelpProvider: { triggerCharacters: signatureTriggerCharacters },
        semanticTokensProvider: { legend: semanticTokensLegend, full: true },
        executeCommandProvider: { commands: [RUN_TEST_COMMAND, RUN_TESTS_COMMAND] },
      },
      serverInfo: { name: 'hdc-language-server' },
    };
  });

  connection.onInitialized(() => {
    if (watchDynamically) {
      void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.hdc' }] });
    } else {
      // The client will not tell us about files changed on disk: watch the folders ourselves.
      watcher = new FolderWatcher((path, event) => diskChanged(path, event === 'deleted'));
      for (const root of roots) if (root.startsWith('/') || /^[A-Za-z]:\//.test(root)) watcher.watch(root);
    }
    // Check the workspace's projects once, so problems in unopened files show up too.
    const dirs = new Set(findHdcFiles(roots.filter(Boolean)).map((f) => workspace.projectOf(toPosixPath(f))));
    for (const dir of dirs) scheduler.schedule(dir, 0);
    if (progressSupport && dirs.size > 0) {
      void connection.window.createWorkDoneProgress().then((progress) => {
        // Projects whose first check already ended before the client answered need no report.
        const left = new Set([...dirs].filter((d) => !reads.has(d)));
        if (left.size === 0) return progress.done();
        loading = { progress, left, total: dirs.size };
        progress.begin('hdc', 0, `checking ${dirs.size} project${dirs.size === 1 ? '' : 's'}`, false);
      }, () => {});
    }
  });

  // The code lenses' commands (and the VS Code Testing API's runs): the real `hdc test` in the
  // project's folder. They answer with the counts and every test's result; cancelling the request
  // stops the CLI.
  connection.onExecuteCommand(async (p, token) => {
    if (p.command !== RUN_TEST_COMMAND && p.command !== RUN_TESTS_COMMAND) return null;
    const [uri, name] = (p.arguments ?? []) as [string, string | undefined];
    if (typeof uri !== 'string') return null;
    const dir = workspace.projectOf(uriToPath(uri));
    const abort = new AbortController();
    const cancelled = token.onCancellationRequested(() => abort.abort());
    let run;
    try {
      run = await runTests(cli, dir, (path) => workspace.text(path), p.command === RUN_TEST_COMMAND ? name : undefined, abort.signal);
    } finally {
      cancelled.dispose();
    }
    if (!abort.signal.aborted) {
      // A run replaces what the last one said about the project's files.
      for (const path of [...testFailures.keys()]) if (workspace.projectOf(path) === dir) testFailures.delete(path);
      for (const [path, list] of run.diagnostics) testFailures.set(path, list);
      scheduler.schedule(dir, 0);
    }
    // hdc test reads the files on disk: unsaved edits were not part of the run.
    const unsaved = workspace.openPaths().filter((path) => workspace.projectOf(path) === dir && workspace.document(path)!.getText() !== readDisk(path)).length;
    const summary = (run.error ? `hdc test: ${run.error}` : `hdc test: ${run.passed} passed, ${run.failed} failed${run.skipped ? `, ${run.skipped} skipped` : ''}`)
      + (unsaved ? `; ${unsaved} file${unsaved === 1 ? ' has' : 's have'} unsaved changes the run did not see` : '');
    // A notification: a message request would wait for (and fail without) a client that answers it.
    // A client running tests through the Testing API shows the results there (quiet: true).
    const quiet = (p.arguments?.[2] as { quiet?: boolean } | undefined)?.quiet === true;
    if (!quiet && !abort.signal.aborted) void connection.sendNotification(ShowMessageNotification.type, { type: run.error || run.failed ? MessageType.Warning : MessageType.Info, message: summary });
    return { passed: run.passed, failed: run.failed, skipped: run.skipped, ...(run.error ? { error: run.error } : {}), tests: run.tests, unsaved };
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
    for (const dir of projectsAffectedBy(uriToPath(e.document.uri))) scheduler.schedule(dir, 0);
  });
  documents.onDidChangeContent((e) => {
    active();
    workspace.setOpen(e.document);
    // A test's failures describe the text it ran on.
    testFailures.delete(uriToPath(e.document.uri));
    if (justOpened.delete(e.document.uri)) return;
    checkAfterChange(uriToPath(e.document.uri));
  });
  documents.onDidClose((e) => {
    workspace.close(e.document.uri);
    checkAfterChange(uriToPath(e.document.uri));
  });
  const diskChanged = (path: string, deleted: boolean) => {
    workspace.diskChanged(path);
    thread?.diskChanged(path);
    if (deleted) {
      analyzer.forget(workspace.projectOf(path));
      thread?.forget(workspace.projectOf(path));
    }
    checkAfterChange(path);
  };
  connection.onDidChangeWatchedFiles((e) => {
    for (const change of e.changes) diskChanged(uriToPath(change.uri), change.type === FileChangeType.Deleted);
  });

  // Requests never wait for a check: outline, folding and formatting read the file's parse alone,
  // completion the last analysis with the edited file parsed again, navigation and hover the
  // analysis of the current texts (compiled here when stale: exact ranges matter there).
  const guard = <P, R>(fallback: R, run: (params: P, token: CancellationToken) => R) => (params: P, token: CancellationToken): R => {
    active();
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
  const parsedFile = (uri: string) => analyzer.parsed(uriToPath(uri));

  connection.onCompletion(guard(null, (p) => completion(ctx, p)));
  connection.onHover(guard(null, (p) => hover(ctx, p)));
  connection.onDefinition(guard(null, (p) => definition(ctx, p)));
  connection.onReferences(guard(null, (p) => references(ctx, p)));
  connection.onPrepareRename(guard(null, (p) => prepareRename(ctx, p)));
  connection.onRenameRequest(guard(null, (p) => rename(ctx, p)));
  connection.onDocumentSymbol(guard(null, (p) => {
    const file = parsedFile(p.textDocument.uri);
    return file ? documentSymbols(file) : [];
  }));
  connection.onFoldingRanges(guard(null, (p) => {
    const file = parsedFile(p.textDocument.uri);
    return file ? foldingRanges(file) : [];
  }));
  connection.onDocumentFormatting(guard(null, (p) => formatting(ctx, p)));
  connection.onCodeAction(guard(null, (p) => codeActions(p)));
  connection.onCodeLens(guard(null, (p) => {
    const file = parsedFile(p.textDocument.uri);
    return file ? codeLenses(file) : [];
  }));
  connection.onDocumentLinks(guard(null, (p) => {
    const file = parsedFile(p.textDocument.uri);
    return file ? documentLinks(file) : [];
  }));
  connection.languages.semanticTokens.on(guard({ data: [] }, (p) => {
    const { analysis, file } = analyzer.forFile(uriToPath(p.textDocument.uri));
    return file ? semanticTokens(analysis, file) : { data: [] };
  }));
  connection.onSignatureHelp(guard(null, (p) => signatureHelp(ctx, p)));
  connection.onWorkspaceSymbol(guard(null, (p) => {
    const paths = new Set(findHdcFiles(roots.filter(Boolean)).map(toPosixPath));
    for (const open of workspace.openPaths()) paths.add(open);
    const files = [...paths].sort().map((path) => analyzer.parsed(path)).filter((f) => f !== undefined);
    return workspaceSymbols(files, p.query);
  }));

  // hdc/tests: the `test` blocks of a file, or of every .hdc file of the workspace (with open ones).
  connection.onRequest(TESTS_REQUEST, guard<TestsParams | undefined, FileTests[]>([], (p) => {
    const paths = p?.textDocument ? [uriToPath(p.textDocument.uri)] : [...new Set([...findHdcFiles(roots.filter(Boolean)).map(toPosixPath), ...workspace.openPaths()])].sort();
    const out: FileTests[] = [];
    for (const path of paths) {
      const file = analyzer.parsed(path);
      if (file) out.push(testBlocks(file));
      // A file that is gone (deleted) has no tests.
      else if (p?.textDocument) out.push({ uri: p.textDocument.uri, tests: [] });
    }
    return p?.textDocument ? out : out.filter((f) => f.tests.length > 0);
  }));

  connection.onShutdown(() => {
    scheduler.dispose();
    clearTimeout(idleTimer);
    thread?.dispose();
    watcher?.dispose();
  });
  documents.listen(connection);
  connection.listen();
}
