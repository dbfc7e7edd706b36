// A real browser for end-to-end tests: Debian's chromium driven by playwright-core.
// Needs the Debian package `chromium` (apt-get install -y chromium; .ci/run installs it).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.HDC_CHROMIUM ?? '/usr/bin/chromium';

/** The flags keep a headless chromium from reaching out to the network on its own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-quic',
  '--metrics-recording-only',
];

export function browserAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface TestBrowser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Launches chromium with a fresh profile in a temp dir; HTTPS errors (self-signed loopback
 * certificates) are ignored.
 */
export async function launchBrowser(opts: { timeoutMs?: number } = {}): Promise<TestBrowser> {
  if (!browserAvailable()) throw new Error(`chromium not found at ${CHROMIUM_PATH} (Debian package: chromium)`);
  const userDataDir = mkdtempSync(join(tmpdir(), 'hdc-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    ignoreHTTPSErrors: true,
    timeout: opts.timeoutMs ?? 30000,
  });
  context.setDefaultTimeout(opts.timeoutMs ?? 15000);
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
