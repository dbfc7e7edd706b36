// Semantic tokens over stdio: HL7 paths, message types, FHIR resource types and declared names
// (declarations marked as such), decoded from the protocol's relative encoding.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SemanticTokens, SemanticTokensLegend } from 'vscode-languageserver/node.js';
import { LspClient } from './lsp-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-tokens-'));
let client: LspClient;

const text = `api ehr fhir "https://ehr.example.org/R4" {}

sender lab {
  path "/hl7/lab"
  accept ORU^R01
  fields { mrn = PID-3.1 }
  on ORU^R01 run file_results
}

workflow file_results {
  patient = search ehr Patient { identifier: mrn }
  store { id: patient.id } in "ids"
}
`;

test.before(async () => {
  client = await LspClient.start({ rootDir: dir, debounceMs: 20 });
});
test.after(async () => {
  await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('paths, message types, resource types and names, by what they name', async () => {
  const legend = (client.initializeResult!.capabilities.semanticTokensProvider as { legend: SemanticTokensLegend }).legend;
  const uri = await client.open(join(dir, 'a.hdc'), text);
  const r = await client.request<SemanticTokens>('textDocument/semanticTokens/full', { textDocument: { uri } });
  const lines = text.split('\n');
  const decoded: string[] = [];
  let line = 0;
  let char = 0;
  for (let i = 0; i < r.data.length; i += 5) {
    const [dl, dc, len, type, mods] = r.data.slice(i, i + 5) as [number, number, number, number, number];
    line += dl;
    char = dl ? dc : char + dc;
    decoded.push(`${lines[line]!.slice(char, char + len)}:${legend.tokenTypes[type]}${mods & 1 ? ':declaration' : ''}`);
  }
  for (const t of ['ehr:class:declaration', 'lab:class:declaration', 'ORU^R01:enumMember', 'mrn:variable:declaration', 'PID-3.1:property',
    'file_results:function', 'file_results:function:declaration', 'patient:variable:declaration', 'ehr:class', 'Patient:type', 'mrn:variable', 'patient:variable']) {
    assert.ok(decoded.includes(t), `${t} in ${decoded.join(' ')}`);
  }
});

test.run();
