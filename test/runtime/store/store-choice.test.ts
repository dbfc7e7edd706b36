// Which store a runtime uses: the plan's `store` wins over `hdc run --store URL`; without either,
// SQLite in the data directory. Passwords never reach a log line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseStore, redactUrl } from '../../../runtime/store/store-choice.ts';

test('the plan wins over the flag; the flag over the default', () => {
  assert.equal(chooseStore({ kind: 'postgres', url: 'postgres://a/plan' }, 'postgres://b/flag'), { kind: 'postgres', url: 'postgres://a/plan', from: 'plan' });
  assert.equal(chooseStore({ kind: 'sqlite' }, 'postgres://b/flag'), { kind: 'sqlite' });
  assert.equal(chooseStore(undefined, 'postgresql://b/flag'), { kind: 'postgres', url: 'postgresql://b/flag', from: 'flag' });
  assert.equal(chooseStore(undefined, undefined), { kind: 'sqlite' });
  assert.throws(() => chooseStore(undefined, 'mysql://x'), /postgres:\/\//);
});

test('URLs are logged without their password', () => {
  assert.is(redactUrl('postgres://hdc:s3cret@db:5432/hdc'), 'postgres://hdc:***@db:5432/hdc');
  assert.not.match(redactUrl('postgres://hdc:s3cret@db/hdc'), /s3cret/);
});

test.run();
