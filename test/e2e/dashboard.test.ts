import fs from 'node:fs';
import type { BrowserContextOptions } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock';
import { drained, type TestShop, traffic } from '../support/billing-traffic';
import { launchChromium } from '../support/browser';
import { type Harness, startHarness } from '../support/harness';
import { screenshotPath } from '../support/screenshot-path';

let h: Harness;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let shop: TestShop;
const clock = new ManualClock(Date.parse('2026-03-20T12:00:00+08:00'));
const PLAN = {
  model: 'tiered',
  tiers: [
    { upToAverageDaily: 1, monthlyFen: 150_000 },
    { upToAverageDaily: 3, monthlyFen: 250_000 },
    { upToAverageDaily: null, monthlyFen: 400_000 },
  ],
};
const XSS = '<img src=x onerror=alert(1)>';

beforeAll(async () => {
  h = await startHarness({ clock, env: { WEBHOOK_RATE_PER_MINUTE: '100000' } });
  chromium = await launchChromium();
  shop = await h.createGenericShop({ name: 'Lotus Tea <b>House</b>', plan: PLAN });
  const t = traffic(h, shop);
  // 40 consultations in March: 12 on the 5th, 4 a day on 1-4 and 6-7, 4 on the 18th (average 40/31 = 1.29: tier 2).
  const days: Array<[number, number]> = [
    [1, 4],
    [2, 4],
    [3, 4],
    [4, 4],
    [5, 12],
    [6, 4],
    [7, 4],
    [18, 4],
  ];
  const sends: Promise<void>[] = [];
  for (const [day, count] of days) {
    for (let i = 0; i < count; i++) {
      const buyer = day === 5 && i === 0 ? XSS : `buyer-${day}-${i}`;
      const at = `2026-03-${String(day).padStart(2, '0')}T10:${String(i).padStart(2, '0')}:00+08:00`;
      sends.push(t.buyer(buyer, at));
      // Three in four are answered within a minute.
      if (i % 4 !== 3) sends.push(t.agent(buyer, at.replace(':00+08:00', ':40+08:00')));
    }
  }
  await Promise.all(sends);
  await t.order('buyer-5-1', 9900, '2026-03-06T09:00:00+08:00');
  await t.rating('buyer-5-1', 5, '2026-03-06T09:00:00+08:00');
  await t.rating('buyer-5-2', 4, '2026-03-06T09:00:00+08:00');
  await drained(h);
});
afterAll(async () => {
  await chromium?.close();
  await h?.close();
});

/** The owner's dashboard in a browser context of its own, signed in with the shop's key. */
async function openDashboard(options: BrowserContextOptions) {
  const context = await chromium.browser.newContext(options);
  await context.addInitScript(
    (key) => sessionStorage.setItem('seatmate.ownerKey', key),
    shop.ownerKey,
  );
  const page = await context.newPage();
  await page.goto(`${h.url}/dashboard`);
  return { context, page };
}

describe('owner dashboard in headless Chromium', () => {
  it('signs in with the owner key and shows the month: figures, chart, estimate, invoices and the audit with its CSV', async () => {
    const context = await chromium.browser.newContext({
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
    });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${h.url}/dashboard`);
    await page.fill('#owner-key', shop.ownerKey);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#audit tbody tr');

    expect(await page.textContent('#shop-name')).toBe('Lotus Tea <b>House</b>');
    // The shared base styles (/shared/base.css) apply: the page's palette.
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      'rgb(246, 247, 249)',
    );
    const figure = (id: string) => page.textContent(`[data-figure="${id}"] .value`);
    expect(await figure('consultations')).toBe('40');
    expect(await figure('receptions')).toBe('30');
    expect(await figure('average-daily')).toBe('1.29');
    expect(await figure('first-response')).toBe('40 sec');
    expect(await figure('within-3-min')).toBe('75.0%');
    expect(await figure('conversion')).toBe('2.5%');
    expect(await figure('satisfaction')).toBe('4.50 / 5');
    expect(await figure('estimate-total')).toBe('¥2,500.00');

    // One consultations bar and one receptions bar per calendar day; the 5th is the tallest.
    expect(await page.locator('#chart rect.bar-c').count()).toBe(31);
    expect(await page.locator('#chart rect.bar-r').count()).toBe(31);
    const height = (date: string) =>
      page.getAttribute(`#chart rect.bar-c[data-date="${date}"]`, 'height').then(Number);
    expect(await height('2026-03-05')).toBeGreaterThan(2.9 * (await height('2026-03-01')));
    expect(await height('2026-03-10')).toBe(0);
    expect(await page.locator('#chart line.tier').count()).toBe(2);
    expect(await page.locator('#chart line.avg').count()).toBe(1);

    expect(await page.textContent('#estimate [data-total]')).toBe('¥2,500.00');
    expect(await page.textContent('#estimate-status')).toBe('draft');
    expect(await page.textContent('#invoices tbody')).toContain('March 2026');
    expect(await page.locator('#invoices tr[data-month="2026-03"]').count()).toBe(1);

    // The busiest day is opened in the audit: the untrusted buyer id is shown as text, never markup.
    expect(await page.inputValue('#audit-date')).toBe('2026-03-05');
    expect(await page.locator('#audit tbody tr').count()).toBe(12);
    expect(await page.textContent('#audit tbody')).toContain('<i***)>');
    // Times and durations as people read them, in the shop's time zone: no ISO stamps, no bare seconds.
    const audit = (await page.textContent('#audit tbody'))!;
    expect(audit).not.toMatch(/\d{4}-\d\d-\d\dT|\d+ s\b/);
    expect(audit).toContain('Mar 5, 2026, 10:01 AM');
    expect(audit).toContain('40 sec');
    expect(await page.locator('#audit img, #shop-name b').count()).toBe(0);
    expect(dialogs).toEqual([]);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-csv')]);
    const bytes = fs.readFileSync((await download.path())!);
    // The UTF-8 byte order mark survives the download: without it Excel garbles Chinese.
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const csv = bytes.toString('utf8').slice(1);
    expect(download.suggestedFilename()).toBe('consultations-2026-03-05.csv');
    expect(csv.split('\r\n')[0]).toBe('buyer,firstMessageAt,firstResponseSeconds,converted');
    expect(csv).toContain('bu***-1,2026-03-05T10:01:00+08:00,40,true');

    await page.screenshot({ path: screenshotPath('dashboard.png'), fullPage: true });
    await context.close();
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const { context, page } = await openDashboard({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
    });
    await page.waitForSelector('#audit tbody tr');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    expect(await page.locator('#chart rect.bar-c').count()).toBe(31);
    await context.close();
  });

  it('keeps the chart readable on a 375 px phone: every label at least 11 px on screen', async () => {
    const { context, page } = await openDashboard({
      viewport: { width: 375, height: 667 },
      deviceScaleFactor: 2,
      isMobile: true,
      locale: 'zh-CN',
    });
    await page.waitForSelector('#chart svg text');
    const sizes = await page.$$eval('#chart svg text', (texts) =>
      texts.map((text) => {
        const svg = (text as SVGTextElement).ownerSVGElement!;
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return { text: text.textContent, px: parseFloat(getComputedStyle(text).fontSize) * scale };
      }),
    );
    expect(sizes.length).toBeGreaterThan(5);
    for (const size of sizes) expect(size.px, size.text ?? '').toBeGreaterThanOrEqual(11);
    // Day labels do not run into each other.
    const days = await page.$$eval('#chart svg text[text-anchor="middle"]:not(.avg-label)', (t) =>
      t.map((n) => n.getBoundingClientRect()).map((r) => ({ left: r.left, right: r.right })),
    );
    for (let i = 1; i < days.length; i++) expect(days[i]!.left).toBeGreaterThan(days[i - 1]!.right);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      375,
    );
    await context.close();
  });

  it('labels the y axis with round steps from 0, the top above every bar and tier bound', async () => {
    const { context, page } = await openDashboard({ viewport: { width: 1280, height: 800 } });
    await page.waitForSelector('#chart svg text.tick');
    const ticks = (
      await page.$$eval('#chart svg text.tick', (t) => t.map((n) => n.textContent))
    ).map((text) => Number((text ?? '').replace(/[^\d.]/g, '')));
    const usage = (await h.api(`/v1/shops/${shop.id}/usage`, { token: shop.ownerKey })).body;
    const highest = Math.max(
      ...usage.days.map((d: { consultations: number }) => d.consultations),
      ...PLAN.tiers.flatMap((tier) =>
        tier.upToAverageDaily === null ? [] : [tier.upToAverageDaily],
      ),
    );
    expect(ticks[0]).toBe(0);
    const step = ticks[1]!;
    expect(ticks).toEqual(ticks.map((_, i) => i * step));
    expect(step / 10 ** Math.floor(Math.log10(step))).toBeOneOf([1, 2, 5]);
    expect(ticks.length).toBeLessThanOrEqual(5);
    expect(ticks.at(-1)!).toBeGreaterThanOrEqual(highest);
    await context.close();
  });

  it('rejects a wrong key and stays signed out', async () => {
    const page = await chromium.browser.newPage();
    await page.goto(`${h.url}/dashboard`);
    await page.fill('#owner-key', 'own_not_a_real_key');
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('sign-in-error')?.textContent !== '');
    expect(await page.textContent('#sign-in-error')).toContain('unknown');
    expect(await page.isHidden('#app')).toBe(true);
    await page.close();
  });
});
