import { Client, InvalidCredentialsError } from 'ldapts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ldapAvailable, startLdap, type LdapServer } from '../peers/ldap.ts';

let ldap: LdapServer | undefined;
const available = ldapAvailable();
if (!available) console.log('slapd is not installed (Debian packages slapd ldap-utils): LDAP peer tests skipped');
const maybe = available ? test : test.skip;

test.before(async () => {
  if (!available) return;
  ldap = await startLdap({
    users: [
      { username: 'alice', password: 'wonder land', cn: 'Alice Liddell', sn: 'Liddell', mail: 'alice@hdc.test', groups: ['admitting', 'staff'] },
      { username: 'bob', password: 'builder', groups: ['staff'] },
      { username: 'zoë', password: 'ünïcode', cn: 'Zoë Ångström' },
    ],
  });
});
test.after(async () => {
  await ldap?.close();
});

async function bind(dn: string, password: string): Promise<boolean> {
  const c = new Client({ url: ldap!.url, timeout: 5000, connectTimeout: 5000 });
  try {
    await c.bind(dn, password);
    return true;
  } catch (e) {
    if (e instanceof InvalidCredentialsError) return false;
    throw e;
  } finally {
    await c.unbind();
  }
}

maybe('simple bind succeeds with the right password and fails otherwise', async () => {
  assert.ok(ldap!.url.startsWith('ldap://127.0.0.1:'));
  assert.is(ldap!.bindDnFor('alice'), 'uid=alice,ou=people,dc=hdc,dc=test');
  assert.ok(await bind(ldap!.bindDnFor('alice'), 'wonder land'));
  assert.not.ok(await bind(ldap!.bindDnFor('alice'), 'wrong'));
  assert.not.ok(await bind(ldap!.bindDnFor('nobody'), 'x'));
  assert.ok(await bind(ldap!.bindDnFor('zoë'), 'ünïcode'));
});

maybe('search-then-bind: the manager finds the user and the groups', async () => {
  const c = new Client({ url: ldap!.url });
  try {
    await c.bind(ldap!.adminDn, ldap!.adminPassword);
    const { searchEntries } = await c.search(ldap!.peopleDn, { filter: '(uid=alice)', attributes: ['cn', 'mail', 'uid'] });
    assert.is(searchEntries.length, 1);
    assert.is(searchEntries[0].dn, ldap!.bindDnFor('alice'));
    assert.is(searchEntries[0].mail, 'alice@hdc.test');
    assert.is(searchEntries[0].cn, 'Alice Liddell');
    const groups = await c.search(ldap!.groupsDn, { filter: `(member=${ldap!.bindDnFor('alice')})`, attributes: ['cn'] });
    assert.equal(groups.searchEntries.map((e) => e.cn).sort(), ['admitting', 'staff']);
  } finally {
    await c.unbind();
  }
  // Anonymous users cannot search, and passwords are never readable.
  const anon = new Client({ url: ldap!.url });
  try {
    const refused = await anon.search(ldap!.peopleDn, { filter: '(uid=*)' }).then(
      (r) => r.searchEntries.length === 0,
      () => true,
    );
    assert.ok(refused);
  } finally {
    await anon.unbind();
  }
  const user = new Client({ url: ldap!.url });
  try {
    await user.bind(ldap!.bindDnFor('bob'), 'builder');
    const { searchEntries } = await user.search(ldap!.peopleDn, { filter: '(uid=alice)', attributes: ['userPassword', 'cn'] });
    assert.equal([searchEntries[0].userPassword ?? []].flat(), []);
    assert.is(searchEntries[0].cn, 'Alice Liddell');
  } finally {
    await user.unbind();
  }
});

test.run();
