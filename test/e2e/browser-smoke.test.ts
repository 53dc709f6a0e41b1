import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser';
import { type Harness, startHarness } from '../support/harness';

let h: Harness;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
beforeAll(async () => {
  h = await startHarness({ workers: false });
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await h?.close();
});

describe('headless Chromium against the service', () => {
  it('renders the OpenAPI document the service serves', async () => {
    const page = await chromium.browser.newPage();
    await page.goto(`${h.url}/openapi.json`);
    expect(await page.textContent('body')).toContain('"openapi":"3.1.0"');
    await page.close();
  });
});
