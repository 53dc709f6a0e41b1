import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bannedClaimsFileSchema,
  lexiconFileSchema,
  templatesFileSchema,
} from '../../../src/assist/lexicon-files';

const read = (file: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../src/assist/lexicon/${file}`, import.meta.url), 'utf8'));

// The assistant loads these files without validating them (zod would dominate its cold
// start), so this test is what keeps a typo in a data file from reaching a buyer.
describe('lexicon data files', () => {
  it.each(['zh-Hans', 'zh-Hant', 'en'])('the %s lexicon fits its schema', (locale) => {
    expect(lexiconFileSchema.safeParse(read(`${locale}.json`)).error).toBeUndefined();
  });

  it.each(['zh-Hans', 'zh-Hant', 'en'])('the %s reply templates fit their schema', (locale) => {
    expect(templatesFileSchema.safeParse(read(`templates.${locale}.json`)).error).toBeUndefined();
  });

  it('the banned claims fit their schema', () => {
    expect(bannedClaimsFileSchema.safeParse(read('banned-claims.json')).error).toBeUndefined();
  });

  it('the schemas reject a misspelt key', () => {
    const lexicon = read('en.json') as Record<string, unknown>;
    const { greeting, ...rest } = lexicon;
    expect(lexiconFileSchema.safeParse({ ...rest, greetings: greeting }).success).toBe(false);
  });
});
