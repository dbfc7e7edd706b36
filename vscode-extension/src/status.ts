// What the status bar item shows: the server starting, checking, the errors and warnings of the
// .hdc files, or the server down (a click restarts it). Pure, so it is tested without VS Code.

export interface ServerStatus {
  server: 'starting' | 'running' | 'stopped';
  checking: boolean;
  errors: number;
  warnings: number;
}

export interface StatusView { text: string; tooltip: string; command?: string }

export function statusView(s: ServerStatus): StatusView {
  if (s.server === 'stopped') return { text: '$(warning) hdc: server stopped', tooltip: 'The hdc language server is not running. Click to restart it.', command: 'hdc.restartServer' };
  if (s.server === 'starting') return { text: '$(sync~spin) hdc', tooltip: 'Starting the hdc language server' };
  if (s.checking) return { text: '$(sync~spin) hdc: checking', tooltip: 'Checking the project' };
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  if (s.errors) return { text: `$(error) hdc: ${count(s.errors, 'error')}`, tooltip: `${count(s.errors, 'error')}, ${count(s.warnings, 'warning')} in .hdc files. Click for the Problems panel.`, command: 'workbench.actions.view.problems' };
  if (s.warnings) return { text: `$(warning) hdc: ${count(s.warnings, 'warning')}`, tooltip: `${count(s.warnings, 'warning')} in .hdc files. Click for the Problems panel.`, command: 'workbench.actions.view.problems' };
  return { text: '$(check) hdc', tooltip: 'No problems in .hdc files' };
}
