// The outline: declarations with their parts (a sender's fields and routes, a workflow's steps,
// a launch's fetches) and modules' blocks, straight from the AST.
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver';
import type * as A from '../../compiler/syntax/ast.ts';
import { toLspRange } from '../ranges.ts';

const symbol = (name: string, detail: string, kind: SymbolKind, range: A.Range, selection: A.Range, children?: DocumentSymbol[]): DocumentSymbol => ({
  name: name || '?',
  detail,
  kind,
  range: toLspRange(range),
  selectionRange: toLspRange(selection),
  ...(children && children.length ? { children } : {}),
});

function fieldSymbols(fields: A.FieldDecl[]): DocumentSymbol[] {
  return fields.map((f) =>
    symbol(f.name.name, f.each ? `each ${f.each.name}` : (f.path?.path.text ?? ''), f.fields ? SymbolKind.Struct : SymbolKind.Field, f.range, f.name.range, f.fields && fieldSymbols(f.fields)),
  );
}

/** A REST path as written: "/charges" or a template "/patients/{id}". */
const urlText = (e: A.Expr | undefined): string => (e?.kind === 'template' ? e.raw : e?.kind === 'literal' ? JSON.stringify(e.value) : '');

function stmtSymbols(stmts: A.Stmt[]): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const s of stmts) {
    switch (s.kind) {
      case 'request': {
        const what = s.protocol === 'fhir' ? `${s.verb} ${s.api ? s.api.name + ' ' : ''}${s.resourceType?.name ?? ''}` : `${s.verb} ${s.api?.name ?? ''} ${urlText(s.urlPath)}`;
        if (s.target) out.push(symbol(s.target.name, what.trim(), SymbolKind.Variable, s.range, s.target.range));
        break;
      }
      case 'let':
        out.push(symbol(s.name.name, 'let', SymbolKind.Variable, s.range, s.name.range));
        break;
      case 'if':
        out.push(...stmtSymbols(s.then), ...stmtSymbols(s.else ?? []));
        break;
      case 'for':
        out.push(symbol(s.variable.name, 'for each', SymbolKind.Variable, s.range, s.variable.range, stmtSymbols(s.body)));
        break;
    }
  }
  return out;
}

export function documentSymbols(file: A.SourceFile): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const d of file.decls) {
    switch (d.kind) {
      case 'import':
        out.push(symbol(d.path.value, 'import', SymbolKind.Module, d.range, d.path.range));
        break;
      case 'auth':
        out.push(symbol(d.name.name, `auth ${d.authKind.name}`, SymbolKind.Key, d.range, d.name.range));
        break;
      case 'api':
        out.push(symbol(d.name.name, `api ${d.apiKind.name}`, SymbolKind.Interface, d.range, d.name.range));
        break;
      case 'sender': {
        const routes = d.routes.map((r) => symbol(`on ${r.types.map((t) => ('text' in t ? t.text : '*')).join(', ')}`, `run ${r.workflow.name}`, SymbolKind.Event, r.range, r.range));
        out.push(symbol(d.name.name, 'sender', SymbolKind.Class, d.range, d.name.range, [...fieldSymbols(d.fields), ...routes]));
        break;
      }
      case 'workflow':
        out.push(symbol(d.name.name, 'workflow', SymbolKind.Function, d.range, d.name.range, stmtSymbols(d.body)));
        break;
      case 'launch':
        out.push(symbol(d.name.name, 'smart launch', SymbolKind.Function, d.range, d.name.range, stmtSymbols(d.fetch)));
        break;
      case 'test':
        out.push(symbol(d.name.value, 'test', SymbolKind.Method, d.range, d.name.range));
        break;
      case 'module':
        out.push(symbol((d.name ?? d.keyword).name, d.keyword.name, SymbolKind.Object, d.range, (d.name ?? d.keyword).range));
        break;
      case 'map':
        out.push(symbol(d.name.name, 'map', SymbolKind.Enum, d.range, d.name.range));
        break;
      case 'transform':
        out.push(symbol(d.name.name, d.extends ? `transform extends ${d.extends.name}` : `transform → ${d.result?.name ?? ''}`, SymbolKind.Function, d.range, d.name.range));
        break;
      case 'module':
        // A module's block (dashboard, metrics, …): named by its name, or by its keyword when it takes none.
        out.push(symbol(d.name?.name ?? d.keyword.name, d.from ? `${d.keyword.name} from ${d.from.name}` : d.keyword.name, SymbolKind.Object, d.range, (d.name ?? d.keyword).range));
        break;
    }
  }
  return out;
}
