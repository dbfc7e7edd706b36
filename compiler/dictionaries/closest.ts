// "Did you mean" for every dictionary and for the rest of the compiler: ranks candidates by
// Damerau–Levenshtein distance (optimal string alignment: insert, delete, substitute, swap two
// neighbours), ignoring case, so `Patiant` → `Patient` and `PDI` → `PID`.

/** Edit distance between a and b, case-insensitive; stops early and returns limit + 1 once above limit. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows: the transposition step looks two rows back.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      current[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > limit) return limit + 1;
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}

export interface ClosestOptions {
  /** Largest distance still worth suggesting; default grows with the name: 1 up to 3 characters, then about a third of its length (at least 2). */
  maxDistance?: number;
}

/** Default tolerance: short codes (PID, OBX) only forgive one slip, longer names a few. */
export function defaultMaxDistance(name: string): number {
  return name.length <= 3 ? 1 : Math.max(2, Math.floor(name.length / 3));
}

/**
 * Up to n candidates closest to name, nearest first; ties put anagrams first, then keep the
 * candidates' order (so callers list the commonest names first). A candidate
 * that starts with the name (case-insensitive) also counts as close, so `birth` finds `birthdate`.
 */
export function closest(name: string, candidates: Iterable<string>, n = 3, options: ClosestOptions = {}): string[] {
  const limit = options.maxDistance ?? defaultMaxDistance(name);
  const lower = name.toLowerCase();
  const letters = [...lower].sort().join('');
  const scored: { candidate: string; distance: number; anagram: boolean; order: number }[] = [];
  const seen = new Set<string>();
  let order = 0;
  for (const candidate of candidates) {
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    let distance = editDistance(name, candidate, limit);
    if (distance > limit && lower.length >= 3 && candidate.toLowerCase().startsWith(lower)) distance = limit;
    const anagram = [...candidate.toLowerCase()].sort().join('') === letters;
    if (distance <= limit) scored.push({ candidate, distance, anagram, order: order++ });
  }
  // Among equally distant candidates, swapped letters (PDI → PID) are the likeliest slip.
  scored.sort((x, y) => x.distance - y.distance || Number(y.anagram) - Number(x.anagram) || x.order - y.order);
  return scored.slice(0, n).map((s) => s.candidate);
}
