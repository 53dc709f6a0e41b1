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

  it.each(['console', 'dashboard', 'admin'])(
    '/%s loads without a request the service answers 404 (the tab icon included)',
    async (name) => {
      const page = await chromium.browser.newPage();
      const failed: string[] = [];
      page.on('response', (response) => {
        if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
      });
      let icon = '';
      page.on('requestfinished', (request) => {
        if (request.url().endsWith('/favicon.svg')) icon = request.url();
      });
      await page.goto(`${h.url}/${name}`);
      await page.waitForLoadState('networkidle');
      expect(failed).toEqual([]);
      expect(icon).toBe(`${h.url}/shared/favicon.svg`);
      const svg = await page.request.get(icon);
      expect(svg.headers()['content-type']).toBe('image/svg+xml');
      await page.close();
    },
  );
});
