// IANA time zone names for the sender setting `timezone`, checked against the zone data of the
// Node that compiles (the runtime uses the same data to compute offsets).

/** True for a zone name Intl knows ("Europe/London", "UTC", aliases such as "US/Eastern"); never for offsets like "+01:00". */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

let names: string[] | undefined;

/** The canonical zone names, for "did you mean". */
export function timeZoneNames(): string[] {
  names ??= [...Intl.supportedValuesOf('timeZone'), 'UTC'];
  return names;
}
