// `hdc test` runs launch tests: the launch's fetches, map and rules with the FHIR server mocked,
// and `expect redirect` checked — passing and failing cases, and the shipped example.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileFiles, compileSources } from '../../../compiler/api.ts';
import { runPlanTests } from '../../../runtime/testing/run-tests.ts';

const root = new URL('../../../', import.meta.url).pathname;

const hdc = `
smart launch intake {
  client_id env("ID")
  client_secret env("SECRET")
  scope "launch patient/Patient.rs patient/Coverage.rs"
  issuers "https://ehr.example.org/R4"
  targets "https://forms.example.org/active", "https://forms.example.org/self-pay"
  sign env("FORM_KEY") 5m
  fetch {
    patient = read Patient context.patient
    coverage = search Coverage { beneficiary: "Patient/{context.patient}" }
  }
  map { given: patient.name[0].given[0], member: coverage.entry[0].resource.subscriberId }
  redirect {
    when exists(coverage.entry) to "https://forms.example.org/active" with { given: data.given, member: data.member }
    otherwise to "https://forms.example.org/self-pay" with { given: data.given }
  }
}

test "covered" {
  launch intake with { patient: "p1" }
  mock Patient returns { resourceType: "Patient", id: "p1", name: [{ given: ["Ada"] }] }
  mock Coverage returns { resourceType: "Bundle", type: "searchset", entry: [{ resource: { resourceType: "Coverage", subscriberId: "M-7" } }] }
  expect redirect "https://forms.example.org/active" where params.member == "M-7" and params.given == "Ada"
}

test "self pay" {
  launch intake with { patient: "p2" }
  mock Patient returns { resourceType: "Patient", id: "p2", name: [{ given: ["Bo"] }] }
  mock Coverage returns { resourceType: "Bundle", type: "searchset", entry: [] }
  expect redirect "https://forms.example.org/self-pay" where params.given == "Bo" and exists(params.hdc_sig)
}

test "wrong expectation" {
  launch intake with { patient: "p2" }
  mock Patient returns { resourceType: "Patient", id: "p2", name: [{ given: ["Bo"] }] }
  mock Coverage returns { resourceType: "Bundle", type: "searchset", entry: [] }
  expect redirect "https://forms.example.org/active"
}

test "FHIR error" {
  launch intake with { patient: "p3" }
  mock Patient returns { resourceType: "OperationOutcome" } status 404
  expect redirect "https://forms.example.org/self-pay"
}

test "a refused scope ends on the error page" {
  launch intake with { patient: "p4" }
  mock Patient returns { resourceType: "Patient", id: "p4" }
  mock Coverage returns { resourceType: "OperationOutcome" } status 403
  expect error page "did not grant this app access" where status == 403

}

test "an error page that does not come" {
  launch intake with { patient: "p1" }
  mock Patient returns { resourceType: "Patient", id: "p1" }
  mock Coverage returns { resourceType: "Bundle", type: "searchset", entry: [] }
  expect error page "Try again later"
}

test "another error page than expected" {
  launch intake with { patient: "p5" }
  mock Patient returns { resourceType: "OperationOutcome" } status 500
  expect error page "did not grant"
}
`;

test('launch tests pass and fail as they should', async () => {
  const { plan, diagnostics } = compileSources(new Map([['launch-tests.hdc', hdc]]));
  assert.ok(plan, diagnostics.map((d) => `${d.code} ${d.summary} ${d.range.start.line}`).join('\n'));
  const results = await runPlanTests(plan!);
  const by = Object.fromEntries(results.map((r) => [r.name, r]));
  assert.is(by.covered!.status, 'passed', JSON.stringify(by.covered!.failures));
  assert.is(by['self pay']!.status, 'passed', JSON.stringify(by['self pay']!.failures));
  assert.is(by['wrong expectation']!.status, 'failed');
  assert.match(by['wrong expectation']!.failures[0]!.message, /expected a redirect to https:\/\/forms.example.org\/active, got https:\/\/forms.example.org\/self-pay/);
  assert.match(by['wrong expectation']!.failures[0]!.at, /launch-tests\.hdc:\d+/);
  assert.is(by['FHIR error']!.status, 'failed');
  assert.match(by['FHIR error']!.failures[0]!.message, /launch-tests\.hdc:10: GET launch intake Patient failed: 404/);
  assert.is(by['a refused scope ends on the error page']!.status, 'passed', JSON.stringify(by['a refused scope ends on the error page']!.failures));
  assert.is(by['an error page that does not come']!.status, 'failed');
  assert.match(by['an error page that does not come']!.failures[0]!.message, /expected the launch to end on its error page; it redirected to https:\/\/forms\.example\.org\/self-pay/);
  assert.is(by['another error page than expected']!.status, 'failed');
  assert.match(by['another error page than expected']!.failures[0]!.message, /the error page says "The patient data could not be read.*" \(502\), not "did not grant"/);
});

test('the smart-coverage example passes', async () => {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const { plan } = await compileFiles(['examples/smart-coverage']);
    const results = await runPlanTests(plan!);
    assert.ok(results.length > 0);
    for (const r of results) assert.is(r.status, 'passed', `${r.name}: ${JSON.stringify(r.failures)}`);
  } finally {
    process.chdir(cwd);
  }
});

test.run();
