// Local wall-clock times of an IANA time zone to UTC offsets, with the zone data Node ships
// (Intl.DateTimeFormat), so no dependency is needed and DST rules follow the tz database.
//
// A wall time that occurs twice (the hour repeated when clocks go back) takes the earlier
// instant, i.e. the offset in force before the change; a wall time that does not exist (the hour
// skipped when clocks go forward) is read with the offset in force before the change, which moves
// it forward by the gap: 01:30 on the day London springs forward is 02:30+01:00. These are the
// rules of java.time and of Temporal's "compatible" disambiguation.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when `zone` is an IANA zone name this runtime knows ("Europe/London", "UTC"); offsets like "+01:00" are not zones. */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone)) return false;
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock of `zone` at the instant `utcMs`, as milliseconds of a UTC date with the same fields. */
function wallClockAt(utcMs: number, zone: string): number {
  const f: Record<string, number> = {};
  for (const p of formatterFor(zone).formatToParts(new Date(utcMs))) if (p.type !== 'literal') f[p.type] = Number(p.value);
  return Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!);
}

/** Offset of `zone` from UTC at the instant `utcMs`, in whole minutes. */
export function offsetMinutesAt(utcMs: number, zone: string): number {
  const whole = utcMs - (((utcMs % 1000) + 1000) % 1000);
  return Math.round((wallClockAt(whole, zone) - whole) / 60_000);
}

export interface ZonedTime {
  /** The instant, in ms since the epoch. */
  utcMs: number;
  /** The offset in force at that instant, in minutes. */
  offsetMinutes: number;
}

/**
 * The instant a wall-clock time of `zone` denotes. `wallMs` is the wall time written as if it were
 * UTC (Date.UTC of its fields). Transitions are assumed at most once within a day either side,
 * which holds for every zone in the tz database.
 */
export function resolveWallTime(wallMs: number, zone: string): ZonedTime {
  const DAY = 86_400_000;
  const before = offsetMinutesAt(wallMs - DAY, zone);
  const after = offsetMinutesAt(wallMs + DAY, zone);
  const holds = (offset: number) => offsetMinutesAt(wallMs - offset * 60_000, zone) === offset;
  // Both hold only in a repeated hour: the larger offset gives the earlier instant.
  const candidates = [before, after].filter(holds).sort((a, b) => b - a);
  if (candidates.length) return { utcMs: wallMs - candidates[0]! * 60_000, offsetMinutes: candidates[0]! };
  // A skipped time: read with the offset before the change, written with the one after.
  const utcMs = wallMs - before * 60_000;
  return { utcMs, offsetMinutes: offsetMinutesAt(utcMs, zone) };
}

/** ±hh:mm for an offset in minutes. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
