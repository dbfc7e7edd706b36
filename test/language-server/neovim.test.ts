// The README's Neovim configuration, as written, in the Neovim installed here (headless): the block
// for its version is its init.lua, `hdc` on the PATH is this repository's CLI, and Neovim's own LSP
// client must show the server's diagnostics, complete and hover. Skipped without `nvim` (Debian
// package neovim; .ci/run installs it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const nvim = [...(process.env.PATH ?? '').split(':'), '/usr/bin'].map((d) => join(d, 'nvim')).find((p) => existsSync(p));
if (!nvim) console.log('nvim is not installed (Debian package neovim): the Neovim configuration test skipped');
const maybe = nvim ? test : test.skip;

/** The README's Neovim blocks: the versions each is for, and its Lua. */
function readmeConfigs(): Array<{ min: number[]; max?: number[]; lua: string }> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const out: Array<{ min: number[]; max?: number[]; lua: string }> = [];
  for (const m of readme.matchAll(/\*\*Neovim (\d+\.\d+)(?:–(\d+\.\d+)|\+)\*\*[\s\S]*?```lua\n([\s\S]*?)```/g)) {
    const v = (s: string) => s.split('.').map(Number);
    out.push({ min: v(m[1]!), max: m[2] ? v(m[2]) : undefined, lua: m[3]!.replace(/^ {2}/gm, '') });
  }
  return out;
}

const before = (a: number[], b: number[]) => a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!);

const probe = `
local out = {}
local function log(s) table.insert(out, s) end
local ok = vim.wait(60000, function() return #vim.diagnostic.get(0) > 0 end, 50)
for _, d in ipairs(vim.diagnostic.get(0)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or ''
  log(string.format('diagnostic %d:%d %s', d.lnum, d.col, code))
end
local function request(method, line, col)
  local params = { textDocument = vim.lsp.util.make_text_document_params(), position = { line = line, character = col } }
  local res = vim.lsp.buf_request_sync(0, method, params, 20000) or {}
  for _, r in pairs(res) do if r.result then return r.result end end
end
local items = request('textDocument/completion', 3, 17)
items = items and (items.items or items) or {}
for _, i in ipairs(items) do log('completion ' .. i.label) end
local h = request('textDocument/hover', 2, 10)
if h then log('hover ' .. (h.contents.value or ''):gsub('\\n', ' ')) end
vim.fn.writefile(out, os.getenv('HDC_NVIM_OUT'))
vim.cmd('qa!')
`;

maybe('the README configuration for this Neovim: diagnostics, completion and hover from hdc lsp', async () => {
  const version = /NVIM v(\d+)\.(\d+)/.exec(spawnSync(nvim!, ['--version'], { encoding: 'utf8' }).stdout)!.slice(1).map(Number);
  const config = readmeConfigs().find((c) => !before(version, c.min) && (!c.max || !before(c.max, version)));
  assert.ok(config, `the README has a configuration for Neovim ${version.join('.')}`);
  const dir = mkdtempSync(join(tmpdir(), 'hdc-nvim-'));
  try {
    // `hdc` on the PATH: this repository's CLI.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'hdc'), `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'bin/hdc.js')}" "$@"\n`);
    chmodSync(join(bin, 'hdc'), 0o755);
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'lab.hdc'), 'sender lab {\n  path "/hl7/lab"\n  accept ORU^R01\n  on ORU^R01 run fle_results\n  fields { mrn = PID-3.1 }\n}\n\nworkflow file_results {\n  store mrn in "ids"\n}\n');
    writeFileSync(join(dir, 'init.lua'), config!.lua);
    writeFileSync(join(dir, 'probe.lua'), probe);
    const out = join(dir, 'out.txt');
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(nvim!, ['--headless', '-n', '-i', 'NONE', '-u', join(dir, 'init.lua'), 'lab.hdc', '-c', `luafile ${join(dir, 'probe.lua')}`], {
        cwd: project, stdio: 'ignore', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, HDC_NVIM_OUT: out, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state'), XDG_DATA_HOME: join(dir, 'data') },
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    assert.is(code, 0, 'nvim exits on its own');
    const lines = readFileSync(out, 'utf8').split('\n');
    assert.ok(lines.includes('diagnostic 3:17 HDC2001'), lines.join('\n'));
    assert.ok(lines.includes('completion file_results'), 'workflows after run');
    assert.ok(lines.some((l) => l.startsWith('hover ') && l.includes('ORU^R01')), 'hover on the accepted message type');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
