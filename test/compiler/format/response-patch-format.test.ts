// `hdc fmt` on FHIR patch steps and REST response declarations: one layout, comments kept,
// idempotent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatSource } from '../../../compiler/format/format.ts';

const fmt = (text: string): string => {
  const r = formatSource(text, 'inline.hdc');
  assert.equal(r.diagnostics, [], 'no diagnostics');
  return r.text;
};

const messy = `api sched rest "https://s.example.org"
workflow w {
  slots = get sched "/slots" query {date: "x"}   response {
    // the count
    total = data.count as number   // trailing
    items=data.results[*] optional
    open = each data.results { id = id as string
      /* inner */ start = start as datetime }   optional
    all = $[*]
  }
  patch ehr Patient  slots.total body {active:true}
  patch ehr Patient where {identifier:"x"} body {active:true}
}
`;

const tidy = `api sched rest "https://s.example.org"

workflow w {
  slots = get sched "/slots" query { date: "x" } response {
    // the count
    total = data.count as number // trailing
    items = data.results[*] optional
    open = each data.results {
      id = id as string
      /* inner */
      start = start as datetime
    } optional
    all = $[*]
  }
  patch ehr Patient slots.total body { active: true }
  patch ehr Patient where { identifier: "x" } body { active: true }
}
`;

test('response blocks and patch steps have one layout', () => {
  assert.fixture(fmt(messy), tidy);
  assert.fixture(fmt(tidy), tidy);
});

test('a request with several clauses and a response block', () => {
  const long = `workflow w {
  booking = post sched "/bookings" query { tenant: "acme", source: "hdc" } body { slot: slots.open[0].id, start: slots.open[0].start, room: "3B" } response { id = id as string }
}
`;
  const out = fmt(long);
  assert.fixture(out, `workflow w {
  booking = post sched "/bookings"
    query { tenant: "acme", source: "hdc" }
    body { slot: slots.open[0].id, start: slots.open[0].start, room: "3B" }
    response {
      id = id as string
    }
}
`);
  assert.fixture(fmt(out), out);
});

test('a request with one clause that breaks over lines keeps response on its closing line', () => {
  const src = `workflow w {
  booking = post sched "/bookings" body { appointment: appointment.id, patient: mrn, start: starts_at, end: ends_at, room: room } response { id = id as string }
}
`;
  const out = fmt(src);
  assert.fixture(out, `workflow w {
  booking = post sched "/bookings" body {
    appointment: appointment.id,
    patient: mrn,
    start: starts_at,
    end: ends_at,
    room: room
  } response {
    id = id as string
  }
}
`);
  assert.fixture(fmt(out), out);
});

test.run();
