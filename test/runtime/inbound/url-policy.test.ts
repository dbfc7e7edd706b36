// URLs from the environment are held to the same rule as literal ones: https outside loopback,
// checked when the runtime starts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolvePlanValues, UnresolvedValuesError } from '../../../runtime/platform/config/resolve-values.ts';
import type { Plan } from '../../../plan/plan.types.ts';
import { makePlan } from './helpers.ts';

const planWith = (): Plan => ({
  ...makePlan([]),
  apis: [{ name: 'ehr', kind: 'fhir', baseUrl: { env: 'EHR_BASE', src: 'apis.hdc:3:14-3:29' }, timeoutMs: 1000, retry: { attempts: 1, backoffMs: 1 }, src: 'apis.hdc:3:1-3:40' }],
  auths: [{ name: 'ehr_auth', kind: 'oauth2', tokenUrl: { env: 'TOKEN_URL', default: 'https://auth.example.org/token', src: 'apis.hdc:5:13-5:60' }, clientId: 'c', clientSecret: { env: 'S', src: 'apis.hdc:6:1-6:9' }, src: 'apis.hdc:4:1-8:1' }],
});

test('an env() URL with http to another host stops start-up and names the .hdc line', () => {
  try {
    resolvePlanValues(planWith(), { env: { EHR_BASE: 'http://ehr.example.org/R4', TOKEN_URL: 'http://auth.example.org/token', S: 'x' }, workDir: '.' });
    assert.unreachable('started with http URLs');
  } catch (err) {
    assert.instance(err, UnresolvedValuesError);
    const problems = (err as UnresolvedValuesError).problems;
    assert.ok(problems.includes('apis.hdc:3: the base URL of api ehr must use https outside loopback, got http://ehr.example.org'), problems.join('\n'));
    assert.ok(problems.includes('apis.hdc:5: the token URL of auth ehr_auth must use https outside loopback, got http://auth.example.org'), problems.join('\n'));
  }
});

test('loopback http from the environment is allowed with a warning; https and defaults pass', () => {
  const warnings: string[] = [];
  const resolved = resolvePlanValues(planWith(), { env: { EHR_BASE: 'http://127.0.0.1:8080/fhir', S: 'x' }, workDir: '.', warn: (m) => warnings.push(m) });
  assert.is(resolved.apis[0]!.baseUrl, 'http://127.0.0.1:8080/fhir');
  assert.is(resolved.auths[0]!.tokenUrl, 'https://auth.example.org/token');
  assert.equal(warnings, ['apis.hdc:3: the base URL of api ehr uses http on loopback (127.0.0.1:8080): local development only']);
  const quiet: string[] = [];
  resolvePlanValues(planWith(), { env: { EHR_BASE: 'https://ehr.example.org/R4', S: 'x' }, workDir: '.', warn: (m) => quiet.push(m) });
  assert.equal(quiet, []);
});

test('a value from the environment that is not a URL at all is refused', () => {
  assert.throws(() => resolvePlanValues(planWith(), { env: { EHR_BASE: 'ehr.example.org', S: 'x' }, workDir: '.' }),
    (e: unknown) => e instanceof UnresolvedValuesError && e.problems.includes('apis.hdc:3: the base URL of api ehr is not an absolute URL'));
});

test('an LDAP directory from the environment must use ldaps outside loopback', () => {
  const withLdap = (): Plan => ({
    ...makePlan([]),
    launches: [{
      name: 'portal', clientId: 'c', scope: 'openid', issuers: [], fetch: [], src: 'l.hdc:1:1-9:1',
      redirect: { rules: [], otherwise: { to: 'https://forms.example.org/done', src: 'l.hdc:8:5-8:40' } },
      login: { kind: 'ldap', url: { env: 'LDAP_URL', src: 'l.hdc:4:9-4:24' }, bindDn: 'uid={username}', src: 'l.hdc:3:3-6:3' },
    }],
  });
  assert.throws(() => resolvePlanValues(withLdap(), { env: { LDAP_URL: 'ldap://directory.example.org' }, workDir: '.' }),
    (e: unknown) => e instanceof UnresolvedValuesError && e.problems.includes('l.hdc:4: the LDAP URL of launch portal must use ldaps outside loopback, got ldap://directory.example.org'));
  const warnings: string[] = [];
  resolvePlanValues(withLdap(), { env: { LDAP_URL: 'ldap://127.0.0.1:3890' }, workDir: '.', warn: (m) => warnings.push(m) });
  assert.equal(warnings, ['l.hdc:4: the LDAP URL of launch portal uses ldap on loopback (127.0.0.1:3890): local development only']);
  resolvePlanValues(withLdap(), { env: { LDAP_URL: 'ldaps://directory.example.org' }, workDir: '.' });
});

test.run();
