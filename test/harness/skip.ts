// A skip decided while a test runs (a peer that turned out to be unreachable). uvu only knows
// skips declared up front (test.skip), so the file runner counts these itself: the test is
// reported as skipped, not passed, and HDC_REQUIRE_PEERS turns it into a failure.
declare global {
  var __hdcRuntimeSkips: string[] | undefined;
}

export function skipBecause(reason: string): void {
  (globalThis.__hdcRuntimeSkips ??= []).push(reason);
  console.log(`  skipped: ${reason}`);
}

export function runtimeSkips(): string[] {
  return globalThis.__hdcRuntimeSkips ?? [];
}
