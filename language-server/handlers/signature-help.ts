// Signature help for the expression functions (`join(list, separator = ",")`): the function whose
// parentheses hold the cursor, from the compiler's function table, with the argument being written.
import type { SignatureHelp, SignatureHelpParams } from 'vscode-languageserver';
import { functions } from '../../compiler/semantics/functions.ts';
import type { ServerContext } from '../server.ts';

export const signatureTriggerCharacters = ['(', ','];

/** The call around offset: the function's name and the index of the argument being written. */
export function callAt(text: string, offset: number): { name: string; argument: number } | undefined {
  let depth = 0;
  let argument = 0;
  let inString = false;
  // Scan back to the unclosed "(" on this statement; strings are skipped (escapes are rare here).
  for (let i = offset - 1; i >= 0 && offset - i < 2000; i--) {
    const c = text[i]!;
    if (c === '"' && text[i - 1] !== '\\') inString = !inString;
    if (inString) continue;
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '[' || c === '{') {
      if (depth === 0) return undefined;
      depth--;
    } else if (c === '(') {
      if (depth > 0) { depth--; continue; }
      const m = /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(text.slice(Math.max(0, i - 64), i));
      return m ? { name: m[1]!, argument } : undefined;
    } else if (c === ',' && depth === 0) argument++;
  }
  return undefined;
}

export function signatureHelp(ctx: ServerContext, params: SignatureHelpParams): SignatureHelp | null {
  const doc = ctx.document(params.textDocument.uri);
  if (!doc) return null;
  const call = callAt(doc.getText(), doc.offsetAt(params.position));
  const sig = call && Object.hasOwn(functions, call.name) ? functions[call.name] : undefined;
  if (!call || !sig) return null;
  // The table's doc starts with the signature: `join(list, separator = ",")` then an explanation.
  const m = /^([a-z_]+)\(([^)]*)\)(?::\s*(.*))?$/s.exec(sig.doc);
  const label = m ? `${m[1]}(${m[2]})` : `${call.name}(…)`;
  const names = m && m[2] ? m[2].split(/,\s*/) : [];
  const parameters = names.map((p) => ({ label: p }));
  const variadic = names.some((p) => p.includes('…'));
  const active = parameters.length === 0 ? undefined : variadic ? Math.min(call.argument, parameters.length - 1) : call.argument;
  return {
    signatures: [{ label, documentation: m?.[3] ?? sig.doc, parameters }],
    activeSignature: 0,
    ...(active !== undefined ? { activeParameter: active } : {}),
  };
}
