// npm run bench:compiler — compile a generated project of 10,000+ lines (hundreds of senders and
// workflows); re-check one 500-line file on its own, and inside the whole project the way the
// language server does (its parse redone, the others' reused). Prints one JSON line and writes
// bench/results/compiler.json.
import { writeFileSync, mkdirSync } from 'node:fs';
import { compileSources } from '../compiler/api.ts';

const FILES = 20;
const UNITS_PER_FILE = 12;

function unit(f: number, u: number): string {
  const n = `${f}_${u}`;
  return `// unit ${n}
sender partner_${n} {
  path "/hl7/partner-${n}"
  version "2.5.1"
  match MSH-4.1 == "FAC${n}"
  identity client_cert { subject "CN=partner-${n}" }
  accept ADT^A01, ADT^A04, ORU^R01
  line_endings any
  ack after_workflow 10s
  fields {
    mrn = PID-3[*] where .4.1 == "ACME" -> .1
    family = PID-5.1
    given = PID-5.2
    birth_date = PID-7 as date
    visit = PV1-19.1
    results = each OBX { code = OBX-3.1, value = OBX-5, unit = OBX-6.1 }
  }
  on ADT^A01, ADT^A04 run admit_${n}
  on ORU^R01 run results_${n}
}

workflow admit_${n} {
  patient = search ehr Patient { identifier: "urn:acme:mrn|{mrn}" }
  if patient.total == 0 {
    reject AE "unknown patient {mrn}"
  }
  encounter = search ehr Encounter { patient: "Patient/{patient.entry[0].resource.id}", status: "in-progress" }
  charges = get billing "/charges" query { from: encounter.entry[0].resource.period.start, to: encounter.entry[0].resource.period.end }
  store { mrn: mrn, total: charges.total, visit: visit } in "admissions" key visit
  post billing "/admissions" body { mrn: mrn, total: charges.total }
}

workflow results_${n} {
  patient = search ehr Patient { identifier: "urn:acme:mrn|{mrn}", birthdate: birth_date }
  for each r in results {
    create ehr Observation body {
      resourceType: "Observation",
      status: "final",
      subject: { reference: "Patient/{patient.entry[0].resource.id}" },
      code: { text: r.code },
      valueString: r.value
    }
  }
}
`;
}

const common = `auth ehr_auth smart_backend {
  client_id env("EHR_CLIENT_ID")
  private_key file(env("EHR_KEY"))
  scope "system/Patient.rs"
}
api ehr fhir "https://ehr.example.org/R4" { auth ehr_auth }
api billing rest "https://billing.example.org" { timeout 5s }
`;

const sources = new Map<string, string>([['bench/common.hdc', common]]);
for (let f = 0; f < FILES; f++) {
  sources.set(`bench/project/file${f}.hdc`, Array.from({ length: UNITS_PER_FILE }, (_, u) => unit(f, u)).join('\n'));
}
const lines = [...sources.values()].reduce((n, t) => n + t.split('\n').length, 0);
const fileLines = sources.get('bench/project/file0.hdc')!.split('\n').length;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function time(fn: () => void, warm: number, runs: number): number {
  for (let i = 0; i < warm; i++) fn();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

const opts = { readFile: () => undefined, fileExists: () => true };
let checked = compileSources(sources, opts);
if (!checked.plan) throw new Error('the generated project must compile: ' + JSON.stringify(checked.diagnostics.slice(0, 3)));
const compileMs = time(() => { checked = compileSources(sources, opts); }, 5, 15);

// Re-check after an edit of one file: that file is parsed again, the others come from the cache.
const parseCache = new Map();
compileSources(sources, { ...opts, parseCache });
let edit = 0;
const recheckMs = time(() => {
  const edited = new Map(sources);
  edited.set('bench/project/file0.hdc', sources.get('bench/project/file0.hdc')! + `\n// edit ${edit++}\n`);
  compileSources(edited, { ...opts, parseCache, emit: false });
}, 5, 15);

// Re-check of a 500-line file on its own (a single-file project).
const single = new Map([['bench/common.hdc', common], ['bench/project/file0.hdc', sources.get('bench/project/file0.hdc')!]]);
const singleFileMs = time(() => compileSources(single, { ...opts, emit: false }), 5, 15);

const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
const result = {
  bench: 'compiler',
  lines,
  compileMs: +compileMs.toFixed(1),
  msPer1000Lines: +((compileMs / lines) * 1000).toFixed(2),
  // The figure: re-checking one 500-line file.
  recheckMs: +singleFileMs.toFixed(1),
  recheckFileLines: fileLines,
  // The same file re-checked inside the whole project (every file analysed again, parses cached).
  projectRecheckMs: +recheckMs.toFixed(1),
  senders: checked.plan!.senders.length,
  workflows: checked.plan!.workflows.length,
  peakRssMb,
};
mkdirSync(new URL('./results', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/compiler.json', import.meta.url), JSON.stringify(result) + '\n');
console.log(JSON.stringify(result));
