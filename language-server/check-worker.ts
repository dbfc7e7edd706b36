// The check thread: compiles projects on request, off the thread that answers the editor, so
// completion, hover and navigation never wait behind a project check.
import { parentPort } from 'node:worker_threads';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Analyzer } from './analysis.ts';
import type { CheckReply, CheckRequest } from './check-protocol.ts';
import { Workspace, pathToUri } from './workspace.ts';

export function serveChecks(port: NonNullable<typeof parentPort>): void {
  const workspace = new Workspace();
  const analyzer = new Analyzer(workspace);
  port.on('message', (req: CheckRequest) => {
    let reply: CheckReply;
    try {
      for (const [path, text] of req.texts) {
        if (text === null) workspace.close(pathToUri(path));
        else workspace.setOpen(TextDocument.create(pathToUri(path), 'hdc', 0, text));
      }
      for (const path of req.disk) workspace.diskChanged(path);
      for (const dir of req.forget) analyzer.forget(dir);
      const a = analyzer.project(req.dir);
      reply = { type: 'checked', id: req.id, dir: a.dir, own: a.own, read: [...a.texts.keys()], diagnostics: a.result.diagnostics, compileMs: a.compileMs };
    } catch (e) {
      reply = { type: 'failed', id: req.id, error: String((e as Error)?.stack ?? e) };
    }
    port.postMessage(reply);
  });
}

if (parentPort) serveChecks(parentPort);
