// `hdc lsp --stdio`: the language server for any editor (VS Code, Neovim, Helix, …).
import type { Command } from '../command.ts';

const command: Command = {
  usage: [
    'Usage: hdc lsp --stdio',
    '',
    'Speaks the Language Server Protocol on stdin/stdout: diagnostics, completion (HL7 v2, FHIR R4,',
    'declared names), hover, go to definition, references, rename, outline, folding, formatting and',
    'quick fixes for .hdc files. Editors start it; it is not meant to be run by hand.',
    '',
    'Options:',
    '  --stdio            talk over stdin/stdout (the default and only transport)',
    '  --debounce-ms N    quiet period after an edit before re-checking (default 100)',
  ].join('\n'),
  async run(args) {
    const { parseArgs } = await import('node:util');
    const { values } = parseArgs({
      args,
      options: { stdio: { type: 'boolean' }, 'debounce-ms': { type: 'string' }, 'clientProcessId': { type: 'string' } },
      strict: false,
    });
    const debounce = values['debounce-ms'];
    const { runStdioServer } = await import('../../language-server/main.ts');
    await runStdioServer(typeof debounce === 'string' ? { debounceMs: Number(debounce) } : {});
    return 0;
  },
};

export default command;
