import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STAGES, TACTICS } from '../../../src/assist/vocabulary';
import { PLATFORMS } from '../../../src/platforms/contract';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/web');
const LOCALES = ['en', 'zh-Hans', 'zh-Hant'] as const;
const catalog = (locale: string): Record<string, string> =>
  JSON.parse(fs.readFileSync(path.join(WEB, 'i18n', `${locale}.json`), 'utf8'));
const catalogs = Object.fromEntries(LOCALES.map((l) => [l, catalog(l)])) as Record<
  (typeof LOCALES)[number],
  Record<string, string>
>;
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** Every page source that asks the catalog for words. */
function pageSources(): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  for (const dir of fs.readdirSync(WEB)) {
    for (const name of fs.readdirSync(path.join(WEB, dir))) {
      if (/\.(js|html)$/.test(name))
        out.push({
          file: `${dir}/${name}`,
          text: fs.readFileSync(path.join(WEB, dir, name), 'utf8'),
        });
    }
  }
  return out;
}

describe('page language catalogs', () => {
  it('have exactly the same keys in every locale', () => {
    const english = Object.keys(catalogs.en).sort();
    for (const locale of LOCALES) {
      const keys = Object.keys(catalogs[locale]).sort();
      expect({ locale, missing: english.filter((k) => !keys.includes(k)) }).toEqual({
        locale,
        missing: [],
      });
      expect({ locale, extra: keys.filter((k) => !english.includes(k)) }).toEqual({
        locale,
        extra: [],
      });
    }
  });

  it('have no empty message and keep the same placeholders in every locale', () => {
    for (const [key, english] of Object.entries(catalogs.en)) {
      for (const locale of LOCALES) {
        const text = catalogs[locale][key] ?? '';
        expect(text.trim(), `${locale} ${key}`).not.toBe('');
        expect(placeholders(text), `${locale} ${key}`).toEqual(placeholders(english));
      }
    }
  });

  it('hold every key the pages name literally', () => {
    const used = new Set<string>();
    for (const { text } of pageSources()) {
      for (const m of text.matchAll(/\bt\(\s*'([\w.]+)'/g)) used.add(m[1]!);
      for (const m of text.matchAll(/\?\s*'([a-z]+\.[\w.]+)'\s*:\s*'([a-z]+\.[\w.]+)'/g)) {
        used.add(m[1]!);
        used.add(m[2]!);
      }
      for (const m of text.matchAll(/data-i18n(?:-[a-z-]+)?="([\w.]+)"/g)) used.add(m[1]!);
      for (const m of text.matchAll(/\blabel: '([\w.]+)'/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((key) => !(key in catalogs.en)).sort()).toEqual([]);
  });

  it('name every tactic, stage, marketplace badge and media type the console can show', () => {
    // From the service's own vocabularies: a new tactic, stage or platform fails here until named.
    const families: Record<string, readonly string[]> = {
      tactic: TACTICS,
      stage: STAGES,
      badge: [
        ...PLATFORMS.filter((platform) => platform !== 'generic'),
        'web',
        'taobao',
        'tmall',
        'jd',
        'pinduoduo',
        'douyin',
        'shopify',
        'other',
      ],
      media: ['image', 'audio', 'video', 'file', 'sticker', 'location', 'other'],
      connection: ['connecting', 'live', 'reconnecting'],
    };
    for (const [family, names] of Object.entries(families))
      for (const name of names) expect(catalogs.en).toHaveProperty([`${family}.${name}`]);
  });

  it('write the Chinese catalogs in their own script', () => {
    // A few characters that differ between the scripts: a Simplified one in zh-Hant (or the reverse) is a slip.
    const simplifiedOnly = /[们这说发会话应单钮设图语键]/;
    const traditionalOnly = /[們這說發會話應單鈕設圖語鍵]/;
    for (const [key, text] of Object.entries(catalogs['zh-Hant']))
      expect(simplifiedOnly.test(text), `zh-Hant ${key}: ${text}`).toBe(false);
    for (const [key, text] of Object.entries(catalogs['zh-Hans']))
      expect(traditionalOnly.test(text), `zh-Hans ${key}: ${text}`).toBe(false);
  });
});
