// Five-field cron expressions (minute hour day-of-month month day-of-week, in UTC), for
// `schedule "0 2 * * *"`: parsing, and the next time one matches. Pure.

export interface Cron {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Day-of-month and day-of-week both restricted: either may match (as cron does). */
  eitherDay: boolean;
}

const FIELDS: Array<[name: string, min: number, max: number]> = [
  ['minute', 0, 59], ['hour', 0, 23], ['day of month', 1, 31], ['month', 1, 12], ['day of week', 0, 7],
];

/** The parsed expression, or what is wrong with it (the field, its position in the text). */
export function parseCron(text: string): Cron | { error: string; at: [number, number] } {
  const parts: Array<{ text: string; at: number }> = [];
  for (const m of text.matchAll(/\S+/g)) parts.push({ text: m[0], at: m.index });
  if (parts.length !== 5) return { error: `a cron expression has 5 fields (minute hour day month weekday), not ${parts.length}`, at: [0, text.length] };
  const sets: Set<number>[] = [];
  for (let i = 0; i < 5; i++) {
    const [name, min, max] = FIELDS[i]!;
    const p = parts[i]!;
    const set = new Set<number>();
    for (const item of p.text.split(',')) {
      const m = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(item);
      const [lo, hi] = m?.[1] === '*' ? [min, max] : (m?.[1] ?? '').split('-').map(Number) as [number, number?];
      const step = m?.[2] ? Number(m[2]) : 1;
      const top = m?.[1] === '*' ? max : hi ?? (m?.[2] ? max : lo);
      if (!m || lo === undefined || Number.isNaN(lo) || lo < min || top > max || lo > top || step < 1) {
        return { error: `the ${name} field "${p.text}" is not a number from ${min} to ${max}, a range, a list or */N`, at: [p.at, p.at + p.text.length] };
      }
      for (let v = lo; v <= top; v += step) set.add(i === 4 && v === 7 ? 0 : v);
    }
    sets.push(set);
  }
  return { minutes: sets[0]!, hours: sets[1]!, days: sets[2]!, months: sets[3]!, weekdays: sets[4]!, eitherDay: parts[2]!.text !== '*' && parts[4]!.text !== '*' };
}

/** The first minute strictly after `after` (epoch ms) that the expression matches, in UTC. */
export function nextCron(c: Cron, after: number): number {
  const d = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  // At most a few years of minutes; day-level skipping keeps it cheap.
  for (let guard = 0; guard < 5 * 366 * 24 * 60; guard++) {
    const dayOk = c.eitherDay ? c.days.has(d.getUTCDate()) || c.weekdays.has(d.getUTCDay()) : c.days.has(d.getUTCDate()) && c.weekdays.has(d.getUTCDay());
    if (!c.months.has(d.getUTCMonth() + 1) || !dayOk) {
      d.setUTCHours(0, 0, 0, 0);
      d.setUTCDate(d.getUTCDate() + 1);
      continue;
    }
    if (!c.hours.has(d.getUTCHours())) {
      d.setUTCMinutes(0, 0, 0);
      d.setUTCHours(d.getUTCHours() + 1);
      continue;
    }
    if (c.minutes.has(d.getUTCMinutes())) return d.getTime();
    d.setUTCMinutes(d.getUTCMinutes() + 1);
  }
  throw new Error('the cron expression never matches');
}
