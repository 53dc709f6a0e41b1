import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock';
import { launchChromium } from '../support/browser';
import { ADMIN_TOKEN, type Harness, startHarness } from '../support/harness';

// 20:00 UTC on 31 March: already 1 April in Asia/Shanghai, the desk's BILLING_TIMEZONE.
const NOW = Date.parse('2026-03-31T20:00:00Z');

let h: Harness;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;

beforeAll(async () => {
  h = await startHarness({
    clock: new ManualClock(NOW),
    env: { BILLING_TIMEZONE: 'Asia/Shanghai' },
  });
  chromium = await launchChromium();
  // An operator whose browser is in UTC, at the same instant.
  context = await chromium.browser.newContext({ locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(10_000);
});
afterAll(async () => {
  await context?.close();
  await chromium?.close();
  await h?.close();
});

describe('/admin at a month end', () => {
  it("opens the month report and the close on the desk's months, not the browser's", async () => {
    const page = await context.newPage();
    await page.clock.setFixedTime(NOW);
    await page.goto(`${h.url}/admin`);
    await page.waitForFunction(() => !document.body.classList.contains('loading'));
    // Before signing in, the page knows only the browser's clock.
    expect(await page.inputValue('#report-month')).toBe('2026-03');
    await page.fill('#operator-token', ADMIN_TOKEN);
    await page.click('#sign-in-form button[type="submit"]');
    await page.waitForSelector('#app:not([hidden])');
    expect(await page.inputValue('#report-month')).toBe('2026-04');
    expect(await page.inputValue('#close-month')).toBe('2026-03');
  });
});
