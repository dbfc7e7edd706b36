// `npm run bench:parse`: the hdc HL7 parser against the npm HL7 parsers on the same message mix,
// each doing what a connector does — parse, then read MSH-9, MSH-10, PID-3, PID-5 and OBX-5 of
// every OBX. The mix is generated deterministically: 5 ADT (~1.5 KB) : 4 ORU (~5 KB, 20 OBX) :
// 1 escape-heavy. Each parser is warmed up, then measured for a fixed time in interleaved rounds
// (median reported). Edge cases record where each parser reads a value wrongly or throws.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Hl7Message as MedplumMessage } from '@medplum/core';
import { Message as NodeHl7Message } from 'node-hl7-client';
import simpleHl7 from 'simple-hl7';
import Hl7Standard from 'hl7-standard';
import { parseMessage } from '../runtime/inbound/hl7/index.ts';
import { parseHl7Path } from '../compiler/syntax/hl7-path.ts';

interface Read {
  code: string | null;
  trigger: string | null;
  controlId: string | null;
  pid3: string | null;
  pid5: string | null;
  obx5: (string | null)[];
}
type Reader = (text: string) => Read;

// ---------------------------------------------------------------- the mix (seeded, reproducible)
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20240315);
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');
const FAMILY = ['SMITH', 'JOHNSON', 'NGUYEN', 'GARCIA', 'MULLER', 'ROSSI', 'KOWALSKI', 'OKAFOR'];
const GIVEN = ['ANNA', 'JOHN', 'MARIA', 'WEI', 'FATIMA', 'LUCA', 'SOFIA', 'OMAR'];
let counter = 0;
const msh = (type: string, version = '2.5.1') =>
  `MSH|^~\\&|LABSYS|ACME_LAB^2.16.840.1.113883.19.4.6^ISO|HDC|GENERAL_HOSP^2.16.840.1.113883.19.3.2^ISO|2024031510${digits(4)}+0100||${type}|MSG${String(++counter).padStart(8, '0')}|P|${version}|||AL|NE||UNICODE UTF-8`;
const pid = () =>
  `PID|1||${digits(8)}^^^ACME&2.16.840.1.113883.19.3.2&ISO^MR~${digits(9)}^^^SSA&2.16.840.1.113883.4.1&ISO^SS||${pick(FAMILY)}^${pick(GIVEN)}^Q^^^^L~${pick(FAMILY)}^${pick(GIVEN)}^^^^^M||19${digits(2)}0${1 + Math.floor(rand() * 9)}1${digits(1)}|${pick(['F', 'M'])}||2106-3^White^CDCREC|${digits(3)} MAIN ST^APT ${digits(2)}^SPRINGFIELD^IL^627${digits(2)}^USA^H||^PRN^PH^^1^217^${digits(7)}~^NET^Internet^patient${digits(3)}@example.org||EN^English^ISO639|M^Married^HL70002||${digits(10)}^^^ACME^AN|||N^Not Hispanic^HL70189`;
const adt = () =>
  [
    msh('ADT^A01^ADT_A01'),
    `EVN|A01|2024031510${digits(4)}|||${digits(6)}^ADMIT^CLERK^^^^^^ACME`,
    pid(),
    `NK1|1|${pick(FAMILY)}^${pick(GIVEN)}|SPO^Spouse^HL70063|${digits(3)} MAIN ST^^SPRINGFIELD^IL^627${digits(2)}^USA|^PRN^PH^^1^217^${digits(7)}||EC^Emergency Contact^HL70131`,
    `PV1|1|I|4E^${digits(3)}^B^GENERAL_HOSP^^^^^4 EAST||||${digits(6)}^ATTEND^ALICE^M^^DR^MD^^ACME&2.16.840.1.113883.19&ISO|${digits(6)}^REFER^BOB^^^DR^MD|||MED|||||||${digits(6)}^ATTEND^ALICE|IN||SELF|||||||||||||||||||GENERAL_HOSP|||2024031509${digits(4)}`,
    `PV2|||^Chest pain^ICD10||||||||3|||||||||N`,
    `AL1|1|DA|70618^Penicillin^RXNORM|SV|Hives`,
    `AL1|2|FA|256349002^Peanut^SCT|MO|Rash`,
    `DG1|1||R07.9^Chest pain, unspecified^I10||2024031510${digits(4)}|A`,
    `GT1|1||${pick(FAMILY)}^${pick(GIVEN)}||${digits(3)} MAIN ST^^SPRINGFIELD^IL^627${digits(2)}^USA|^PRN^PH^^1^217^${digits(7)}||19${digits(2)}0101|F||SE^Self^HL70063|${digits(9)}`,
    `ROL|1|AD|AT^Attending^HL70443|${digits(6)}^ATTEND^ALICE^M^^DR^MD^^ACME&2.16.840.1.113883.19&ISO|2024031509${digits(4)}`,
    `IN1|1|BCBS^Blue Cross PPO^L|${digits(6)}^^^^NIIP|BLUE CROSS OF ILLINOIS|PO BOX ${digits(4)}^^CHICAGO^IL^606${digits(2)}||^WPN^PH^^1^800^${digits(7)}|GRP${digits(5)}`,
  ].join('\r') + '\r';
const LOINC = [['2345-7', 'Glucose', 'mg/dL'], ['2160-0', 'Creatinine', 'mg/dL'], ['718-7', 'Hemoglobin', 'g/dL'], ['6690-2', 'WBC', '10*3/uL'], ['777-3', 'Platelets', '10*3/uL'], ['2951-2', 'Sodium', 'mmol/L'], ['2823-3', 'Potassium', 'mmol/L']] as const;
const obx = (i: number, value: string, type = 'NM') => {
  const [code, name, unit] = pick([...LOINC]);
  return `OBX|${i}|${type}|${code}^${name}^LN^${digits(4)}^${name.toUpperCase()}^L||${value}|${unit}^${unit}^UCUM|${digits(1)}.${digits(1)}-${digits(2)}.${digits(1)}|N|||F|||2024031509${digits(4)}|ACME_LAB^ACME LABORATORY^L|${digits(6)}^TECH^TINA^^^^^^ACME|||2024031510${digits(4)}||||||100 LAB WAY^^SPRINGFIELD^IL^62701`;
};
const oru = () =>
  [
    msh('ORU^R01^ORU_R01'),
    pid(),
    `PV1|1|O|LAB^^^GENERAL_HOSP||||${digits(6)}^ORDER^OLIVIA^^^DR^MD`,
    `ORC|RE|ORD${digits(6)}^HDC|FIL${digits(6)}^ACME_LAB||CM||||2024031508${digits(4)}|||${digits(6)}^ORDER^OLIVIA^^^DR^MD`,
    `OBR|1|ORD${digits(6)}^HDC|FIL${digits(6)}^ACME_LAB|24323-8^Comprehensive metabolic panel^LN|||2024031508${digits(4)}|||||||||${digits(6)}^ORDER^OLIVIA^^^DR^MD||||||2024031510${digits(4)}|||F`,
    ...Array.from({ length: 20 }, (_, i) => obx(i + 1, `${digits(2)}.${digits(1)}`)),
    `NTE|1|L|Specimen received in good condition.`,
  ].join('\r') + '\r';
const escapeHeavy = () =>
  [
    msh('ORU^R01^ORU_R01'),
    pid().replace(/\^Q\^/, '^O\\T\\NEIL^'),
    `OBR|1|ORD1^HDC|FIL1^ACME_LAB|11502-2^Laboratory report^LN`,
    ...Array.from({ length: 10 }, (_, i) =>
      obx(i + 1, `Result \\T\\ comment ${i}: ratio 3\\S\\4 \\F\\ path C:\\E\\lab\\E\\${i}\\.br\\second line \\X0D0A\\ end \\H\\bold\\N\\`, 'TX')),
  ].join('\r') + '\r';
const mix = [adt(), adt(), oru(), adt(), oru(), escapeHeavy(), adt(), oru(), adt(), oru()];

// ---------------------------------------------------------------- the contestants
const paths = Object.fromEntries(['PID-3.1', 'PID-5.1', 'OBX[*]-5'].map((t) => {
  const r = parseHl7Path(t);
  if ('error' in r) throw new Error(r.error);
  return [t, r.path];
}));
const str = (v: unknown): string | null => (v === undefined || v === null ? null : String(v));

const readers: Record<string, Reader> = {
  hdc: (text) => {
    const m = parseMessage(text);
    const h = m.header;
    return {
      code: h.messageCode, trigger: h.triggerEvent, controlId: h.controlId,
      pid3: m.get(paths['PID-3.1']!) as string | null,
      pid5: m.get(paths['PID-5.1']!) as string | null,
      obx5: m.get(paths['OBX[*]-5']!) as (string | null)[],
    };
  },
  // Reference row: the same parser building the whole decoded tree first (what `hdc parse` prints).
  'hdc (full tree)': (text) => {
    const m = parseMessage(text);
    const tree = m.toJSON();
    const h = m.header;
    const seg = (name: string) => tree.segments.find((s) => s.name === name);
    const pid = seg('PID');
    return {
      code: h.messageCode, trigger: h.triggerEvent, controlId: h.controlId,
      pid3: pid?.fields['3']?.[0]?.[0]?.[0] ?? null,
      pid5: pid?.fields['5']?.[0]?.[0]?.[0] ?? null,
      obx5: tree.segments.filter((s) => s.name === 'OBX').map((s) => s.fields['5']?.[0]?.[0]?.[0] ?? null),
    };
  },
  '@medplum/core': (text) => {
    const m = MedplumMessage.parse(text);
    const h = m.getSegment('MSH')!;
    const p = m.getSegment('PID');
    return {
      code: h.getComponent(9, 1), trigger: h.getComponent(9, 2), controlId: h.getField(10).toString(),
      pid3: str(p?.getComponent(3, 1)), pid5: str(p?.getComponent(5, 1)),
      obx5: m.getAllSegments('OBX').map((s) => s.getField(5).toString()),
    };
  },
  'simple-hl7': (text) => {
    const m = new simpleHl7.Parser({ segmentSeperator: '\r' }).parse(text);
    const p = m.getSegment('PID');
    // simple-hl7 numbers MSH fields from MSH-3; getComponent ignores repetitions, so read the first one.
    return {
      code: m.header.getComponent(7, 1), trigger: m.header.getComponent(7, 2), controlId: m.header.getField(8),
      pid3: str(p?.getField(3, 1)?.split('^')[0]), pid5: str(p?.getField(5, 1)?.split('^')[0]),
      obx5: m.getSegments('OBX').map((s: { getField(n: number): string }) => s.getField(5)),
    };
  },
  'node-hl7-client': (text) => {
    const m = new NodeHl7Message({ text });
    const obx5: string[] = [];
    const list = m.get('OBX'); // an empty node throws on forEach
    if (list.length) list.forEach((s) => obx5.push(s.get(5).toString()));
    return {
      code: m.get('MSH.9.1').toString(), trigger: m.get('MSH.9.2').toString(), controlId: m.get('MSH.10').toString(),
      pid3: m.get('PID.3.1').toString(), pid5: m.get('PID.5.1').toString(), obx5,
    };
  },
  'hl7-standard': (text) => {
    const m = new Hl7Standard(text, { lineEndings: '\r' });
    m.transform();
    return {
      code: str(m.get('MSH.9.1')), trigger: str(m.get('MSH.9.2')), controlId: str(m.get('MSH.10')),
      pid3: str(m.get('PID.3.1')), pid5: str(m.get('PID.5.1')),
      obx5: m.getSegments('OBX').map((s: { get(p: string): unknown }) => str(s.get('OBX.5'))),
    };
  },
};
const PEERS = Object.keys(readers).filter((n) => !n.startsWith('hdc'));

// ---------------------------------------------------------------- edge cases
interface Edge { name: string; text: string; expect: Partial<Read> }
const H = 'MSH|^~\\&|S|F|R|RF|20240315||ORU^R01^ORU_R01|E1|P|2.5';
const edges: Edge[] = [
  { name: 'escape decoding (\\T\\ \\F\\ \\S\\ \\E\\)', text: `${H}\rPID|1||1||A\rOBX|1|TX|X||a \\T\\ b \\F\\ c \\S\\ d \\E\\ e\r`, expect: { obx5: ['a & b | c ^ d \\ e'] } },
  { name: 'hex escape \\X41\\', text: `${H}\rPID|1||1||A\rOBX|1|TX|X||\\X41\\B\r`, expect: { obx5: ['AB'] } },
  { name: '"" explicit null', text: `${H}\rPID|1||1||""\rOBX|1|NM|X||""\r`, expect: { pid5: null, obx5: [null] } },
  { name: 'trailing CR', text: `${H}\rPID|1||123||DOE\rOBX|1|NM|X||5\r`, expect: { pid3: '123', pid5: 'DOE', obx5: ['5'] } },
  { name: 'no trailing CR', text: `${H}\rPID|1||123||DOE\rOBX|1|NM|X||5`, expect: { pid3: '123', obx5: ['5'] } },
  { name: 'repetitions (first of PID-3)', text: `${H}\rPID|1||111^^^A^MR~222^^^B^SS||DOE\r`, expect: { pid3: '111' } },
  { name: 'trailing empty positions', text: `${H}\rPID|1||123^^^||DOE^JANE^^^|||||\r`, expect: { pid3: '123', pid5: 'DOE' } },
  { name: 'custom delimiters', text: `MSH#:*!@#S#F#R#RF#20240315##ORU:R01#C1#P#2.5\rPID#1##77:::A##DOE!T!SON:JO\rOBX#1#NM#X##5\r`, expect: { code: 'ORU', trigger: 'R01', pid3: '77', pid5: 'DOE@SON', obx5: ['5'] } },
  { name: 'v2.7 truncation character', text: `MSH|^~\\&#|S|F|R|RF|20240315||ORU^R01^ORU_R01|T1|P|2.7\rPID|1||9||DOE^JANE\r`, expect: { controlId: 'T1', pid3: '9', pid5: 'DOE' } },
  { name: 'Z segment between OBX', text: `${H}\rPID|1||1||A\rOBX|1|NM|X||1\rZXT|custom|x\rOBX|2|NM|Y||2\r`, expect: { obx5: ['1', '2'] } },
];
const normal = (v: unknown) => (v === '' || v === undefined ? null : v);
function checkEdge(reader: Reader, e: Edge): string | undefined {
  let got: Read;
  try {
    got = reader(e.text);
  } catch (err) {
    return `throws: ${(err as Error).message.slice(0, 60)}`;
  }
  for (const [k, want] of Object.entries(e.expect)) {
    const v = (got as unknown as Record<string, unknown>)[k];
    const same = Array.isArray(want)
      ? Array.isArray(v) && v.length === want.length && want.every((w, i) => normal(w) === normal(v[i]))
      : normal(want) === normal(v);
    if (!same) return `${k}: ${JSON.stringify(v)} (want ${JSON.stringify(want)})`;
  }
  return undefined;
}

// ---------------------------------------------------------------- sanity: same reads on plain messages
const plain = mix.filter((m) => !m.includes('\\T\\'));
const reference = plain.map(readers.hdc!);
for (const name of [...PEERS, 'hdc (full tree)']) {
  plain.forEach((m, i) => {
    const got = readers[name]!(m);
    const want = reference[i]!;
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(`${name} reads the plain mix differently:\n${JSON.stringify(got)}\n${JSON.stringify(want)}`);
    }
  });
}

// ---------------------------------------------------------------- timing
let sink = 0;
function runFor(reader: Reader, ms: number): number {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    for (const m of mix) {
      const r = reader(m);
      sink += r.obx5.length + (r.pid5?.length ?? 0);
    }
    n += mix.length;
  }
  return n;
}
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const sizes = { adt: mix[0]!.length, oru: mix[2]!.length, escapeHeavy: mix[5]!.length };
console.log(`mix: 5 ADT (${sizes.adt} B) : 4 ORU (${sizes.oru} B, 20 OBX) : 1 escape-heavy (${sizes.escapeHeavy} B); ${ROUNDS} rounds of ${ROUND_MS} ms after ${WARMUP_MS} ms warm-up`);
const names = Object.keys(readers);
for (const name of names) runFor(readers[name]!, WARMUP_MS);
const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const name of names) {
    const t0 = performance.now();
    const n = runFor(readers[name]!, ROUND_MS);
    samples[name]!.push(n / ((performance.now() - t0) / 1000));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate: Record<string, number> = Object.fromEntries(names.map((n) => [n, Math.round(median(samples[n]!))]));

console.log('\nparser                msg/s   edge cases failed');
for (const name of names) {
  const failures = edges.map((e) => [e.name, checkEdge(readers[name]!, e)] as const).filter(([, f]) => f);
  console.log(`${name.padEnd(18)} ${String(rate[name]).padStart(8)}   ${failures.length}/${edges.length}`);
  for (const [e, why] of failures) console.log(`${' '.repeat(30)}- ${e}: ${why}`);
}
const fastestPeer = PEERS.reduce((a, b) => (rate[a]! >= rate[b]! ? a : b));
const result = {
  bench: 'parse',
  msgPerSec: rate.hdc!,
  fastestPeer,
  peerMsgPerSec: rate[fastestPeer]!,
  ratio: Math.round((rate.hdc! / rate[fastestPeer]!) * 100) / 100,
};
if (sink < 0) console.log(sink);
const line = JSON.stringify(result);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/parse.json', import.meta.url), line + '\n');
console.log(line);
