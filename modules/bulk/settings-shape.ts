// How a lowered module block holds a setting (compiler/semantics/lower/module-block.ts): one value
// as itself, several as a list, a setting written several times as a list of those.

/** The values of one occurrence, as a list. */
export const valuesOf = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The occurrences of a repeatable setting whose every occurrence has several values (`on T run W`). */
export const phrases = (v: unknown): unknown[][] => {
  if (v === undefined) return [];
  const list = valuesOf(v);
  return Array.isArray(list[0]) ? (list as unknown[][]) : [list];
};
