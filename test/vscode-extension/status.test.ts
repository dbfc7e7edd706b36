// The status bar item: starting, checking, the problems' count, and a stopped server to restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statusView } from '../../vscode-extension/src/status.ts';

test('each state, and a click that leads somewhere useful', () => {
  assert.match(statusView({ server: 'starting', checking: false, errors: 0, warnings: 0 }).text, 'sync~spin');
  assert.is(statusView({ server: 'running', checking: true, errors: 3, warnings: 0 }).text, '$(sync~spin) hdc: checking');
  const errors = statusView({ server: 'running', checking: false, errors: 2, warnings: 1 });
  assert.is(errors.text, '$(error) hdc: 2 errors');
  assert.is(errors.command, 'workbench.actions.view.problems');
  assert.is(statusView({ server: 'running', checking: false, errors: 0, warnings: 1 }).text, '$(warning) hdc: 1 warning');
  assert.is(statusView({ server: 'running', checking: false, errors: 0, warnings: 0 }).text, '$(check) hdc');
  const down = statusView({ server: 'stopped', checking: false, errors: 5, warnings: 0 });
  assert.is(down.text, '$(warning) hdc: server stopped');
  assert.is(down.command, 'hdc.restartServer');
});

test.run();
