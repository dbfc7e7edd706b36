// Which runs replaying a message starts again: the latest run of each workflow the message started
// (an earlier replay's run counts as the latest), and only when none of its runs is still in
// progress (queued, running, or failed and waiting for its next try): the replay would race it.
export function replayPlan(runs: ReadonlyArray<{ id: number; workflow: string; status: string }>): { runs: number[] } | { refused: string } {
  if (!runs.length) return { refused: 'it started no workflow run' };
  const busy = runs.find((r) => r.status === 'queued' || r.status === 'running' || r.status === 'failed');
  if (busy) return { refused: `run ${busy.id} is ${busy.status}, still in progress` };
  const latest = new Map<string, number>();
  for (const r of runs) latest.set(r.workflow, Math.max(latest.get(r.workflow) ?? 0, r.id));
  return { runs: [...latest.values()].sort((a, b) => a - b) };
}

/** Whether the message page offers the replay (the POST checks again). */
export function replayable(runs: ReadonlyArray<{ status: string }>): boolean {
  return runs.length > 0 && runs.every((r) => r.status === 'done' || r.status === 'rejected' || r.status === 'dead');
}
