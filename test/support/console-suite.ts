import type { BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchChromium } from './browser';
import { type Harness, startHarness } from './harness';
import { startPlatformStandIn } from './platform-stand-in';

/** What a console browser test works with; filled in by the suite's beforeAll. */
export interface ConsoleSuite {
  h: Harness;
  chromium: Awaited<ReturnType<typeof launchChromium>>;
  standIn: Awaited<ReturnType<typeof startPlatformStandIn>>;
  /** Browser contexts a test opened; closed after each test. */
  contexts: BrowserContext[];
}

/**
 * One real Seatmate, a platform stand-in and Debian's Chromium for a console
 * test file; `env` adds settings (e.g. a platform API base a test mocks).
 */
export function consoleSuite(env: Record<string, string> = {}): ConsoleSuite {
  const suite = { contexts: [] as BrowserContext[] } as ConsoleSuite;
  beforeAll(async () => {
    suite.h = await startHarness({ env: { OUTBOUND_BACKOFF_MS: '50', ...env } });
    suite.standIn = await startPlatformStandIn();
    suite.chromium = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(suite.contexts.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await suite.chromium?.close();
    await suite.standIn?.close();
    await suite.h?.close();
  });
  return suite;
}
