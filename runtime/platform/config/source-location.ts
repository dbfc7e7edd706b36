// Plan nodes carry `src` = "FILE:LINE:COL-LINE:COL"; people read FILE:LINE.
export function srcLine(src: string | undefined): string {
  if (!src) return '<plan>';
  const m = /^(.*):(\d+):\d+-\d+:\d+$/.exec(src);
  return m ? `${m[1]}:${m[2]}` : src;
}
