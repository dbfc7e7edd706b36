// Loads the extension's TextMate grammar with the same engine VS Code uses (vscode-textmate over
// the oniguruma regex library compiled to wasm), for the grammar tests.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import vsctm from 'vscode-textmate';
import oniguruma from 'vscode-oniguruma';

const require = createRequire(import.meta.url);
export const grammarPath = new URL('../../vscode-extension/syntaxes/hdc.tmLanguage.json', import.meta.url).pathname;

export interface ScopedToken { line: number; startCol: number; endCol: number; text: string; scopes: string[] }

let grammar: Promise<vsctm.IGrammar> | undefined;

export function loadGrammar(): Promise<vsctm.IGrammar> {
  grammar ??= (async () => {
    const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new vsctm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
        createOnigString: (s: string) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scopeName: string) =>
        scopeName === 'source.hdc' ? vsctm.parseRawGrammar(readFileSync(grammarPath, 'utf8'), grammarPath) : null,
    });
    const g = await registry.loadGrammar('source.hdc');
    if (!g) throw new Error('grammar source.hdc did not load');
    return g;
  })();
  return grammar;
}

/** Tokenizes a whole text; lines and columns are 1-based like the compiler's. */
export async function tokenize(text: string): Promise<ScopedToken[]> {
  const g = await loadGrammar();
  const out: ScopedToken[] = [];
  let state = vsctm.INITIAL;
  text.split(/\r?\n/).forEach((lineText, i) => {
    const r = g.tokenizeLine(lineText, state);
    for (const t of r.tokens) {
      out.push({ line: i + 1, startCol: t.startIndex + 1, endCol: t.endIndex + 1, text: lineText.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    }
    state = r.ruleStack;
  });
  return out;
}
