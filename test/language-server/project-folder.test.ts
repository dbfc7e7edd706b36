// The server as editors start it: in the project folder (VS Code, Neovim and Helix start it in the
// workspace root), with relative fixture paths resolved from each file, and with a client that
// does not register file watchers (Neovim, Helix): the server watches the folders itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient } from './lsp-client.ts';

const root = new URL('../..', import.meta.url).pathname;
const examples = join(root, 'examples');
const folders = readdirSync(examples, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(examples, d.name));
// A client like Neovim's: no dynamic registration of file watchers.
const plainClient = { workspace: {}, textDocument: { completion: { completionItem: { snippetSupport: false } } } };

test('every example opens without errors or warnings when the server starts in its folder', async () => {
  let files = 0;
  for (const folder of folders) {
    const client = await LspClient.start({ rootDir: folder, cwd: folder, debounceMs: 10, capabilities: plainClient });
    try {
      for (const name of readdirSync(folder).filter((n) => n.endsWith('.hdc'))) {
        const uri = await client.open(join(folder, name), readFileSync(join(folder, name), 'utf8'));
        const p = await client.waitForDiagnostics(uri, (d) => d.version === 1, 60_000);
        // Infos (an accepted type journaled without a workflow) are notes, not problems.
        const problems = p.diagnostics.filter((d) => d.severity === 1 || d.severity === 2);
        assert.equal(problems.map((d) => `${d.code} ${d.range.start.line + 1}: ${d.message.split('\n')[0]}`), [], `${folder}/${name}`);
        files++;
      }
    } finally {
      await client.stop();
    }
  }
  assert.ok(files >= 5, `${files} example files`);
});

const sender = `sender lab {
  path "/hl7/lab"
  version "2.5.1"
  accept ORU^R01
  fields { mrn = PID-3.1 }
  on ORU^R01 run results
}
`;
const workflow = `workflow results {
  store { mrn: mrn } in "results"
}
`;

test('without client watchers, files created, changed and deleted on disk re-check the project', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-watch-'));
  const proj = join(dir, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, 'sender.hdc'), sender);
  const client = await LspClient.start({ rootDir: dir, cwd: dir, debounceMs: 10, capabilities: plainClient });
  try {
    assert.equal(client.serverRequests.filter((r) => r.method === 'client/registerCapability'), [], 'no watcher registration asked of this client');
    const uri = await client.open(join(proj, 'sender.hdc'), sender);
    const missing = await client.waitForDiagnostics(uri, (d) => d.version === 1, 60_000);
    assert.ok(missing.diagnostics.some((d) => d.code === 'HDC2001'), 'the workflow does not exist yet');

    // Created on disk (by git checkout, another editor, a generator): the route now resolves.
    let since = client.diagnostics.get(uri)!.length;
    writeFileSync(join(proj, 'workflow.hdc'), workflow);
    await client.waitForDiagnostics(uri, (d) => d.diagnostics.length === 0, 30_000, since);

    // Changed on disk: the workflow renamed, the route breaks again.
    since = client.diagnostics.get(uri)!.length;
    writeFileSync(join(proj, 'workflow.hdc'), workflow.replace('workflow results', 'workflow outcomes'));
    await client.waitForDiagnostics(uri, (d) => d.diagnostics.some((x) => x.code === 'HDC2001'), 30_000, since);

    // Deleted, then a whole new folder copied in: its broken file is reported without being opened.
    since = client.diagnostics.get(uri)!.length;
    unlinkSync(join(proj, 'workflow.hdc'));
    writeFileSync(join(proj, 'workflow.hdc'), workflow);
    await client.waitForDiagnostics(uri, (d) => d.diagnostics.length === 0, 30_000, since);
    const staging = join(dir, 'staging');
    mkdirSync(staging);
    writeFileSync(join(staging, 'broken.hdc'), sender);
    renameSync(staging, join(dir, 'copied'));
    const copied = client.uri(join(dir, 'copied', 'broken.hdc'));
    const p = await client.waitForDiagnostics(copied, (d) => d.diagnostics.some((x) => x.code === 'HDC2001'), 30_000);
    assert.is(p.version, undefined, 'a file nobody opened');
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
