import { readdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { chatMessageSchema } from './assist-request-schema';
import { type AssistInput, GIVEN_KINDS, INTENTS, LOCALES, SENTIMENTS, STAGES } from './vocabulary';

/**
 * The assist corpus (corpus/assist/<batch>.jsonl, one conversation a line;
 * format and label guide in docs/assist-corpus.md): its schema, used by
 * training, evaluation and a unit test, so a malformed batch fails `npm test`.
 */

export const CORPUS_DIR = new URL('../../corpus/assist/', import.meta.url);

/** `<locale-tag>-<split>-<n>`; `test` batches are the locked test split and are never trained on. */
export const BATCH_NAME = /^([a-z]+)-(train|test)-(\d+)$/;

const REGIONS = [
  'CN',
  'TW',
  'HK',
  'MO',
  'SG',
  'MY',
  'US',
  'GB',
  'AU',
  'CA',
  'PH',
  'IN',
  'other',
] as const;
const CHANNELS = [
  'taobao',
  'tmall',
  'jd',
  'pinduoduo',
  'douyin',
  'wechat',
  'line',
  'whatsapp',
  'messenger',
  'telegram',
  'shopify',
  'web',
] as const;

const corpusCatalogSchema = z
  .object({
    products: z
      .array(
        z
          .object({
            id: z.string().min(1),
            name: z.string().min(1),
            options: z.record(z.string(), z.array(z.string().min(1))).default({}),
            /** Price in fen (integer). */
            price: z.number().int().nonnegative().optional(),
            /** Days to deliver (a number), or the delivery days a buyer can pick (as in a shop catalog). */
            deliveryDays: z
              .union([z.number().int().nonnegative(), z.array(z.string().min(1))])
              .optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export const corpusItemSchema = z
  .object({
    id: z.string().min(1),
    batch: z.string().regex(BATCH_NAME),
    region: z.enum(REGIONS),
    channel: z.enum(CHANNELS),
    note: z.string().min(1),
    input: z
      .object({
        history: z
          .array(chatMessageSchema)
          .min(1)
          .max(12)
          .refine((h) => h[h.length - 1]?.from === 'buyer', 'the last turn must be the buyer’s'),
        catalog: corpusCatalogSchema.optional(),
        /** The shop default locale, for items about messages with no script of their own. */
        locale: z.enum(LOCALES).optional(),
      })
      .strict(),
    expected: z
      .object({
        stage: z.enum(STAGES),
        intent: z.enum(INTENTS),
        locale: z.enum(LOCALES),
        sentiment: z.enum(SENTIMENTS),
        settled: z.record(z.string(), z.string().min(1)),
        given: z.array(z.enum(GIVEN_KINDS)),
      })
      .strict(),
  })
  .strict()
  .refine((item) => item.id.startsWith(`${item.batch}-`), 'the id must start with its batch name');
export type CorpusItem = z.infer<typeof corpusItemSchema>;

export interface CorpusBatch {
  name: string;
  split: 'train' | 'test';
  items: CorpusItem[];
}

/** Parses one batch file; every error names the line. */
export function parseBatch(name: string, text: string): CorpusBatch {
  const match = BATCH_NAME.exec(name);
  if (!match) throw new Error(`${name}: batch name must be <locale-tag>-<train|test>-<n>`);
  const items = text
    .split('\n')
    .map((line, i) => [line, i + 1] as const)
    .filter(([line]) => line.trim().length > 0)
    .map(([line, lineNo]) => {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new Error(`${name}.jsonl:${lineNo}: not JSON`);
      }
      const parsed = corpusItemSchema.safeParse(json);
      if (!parsed.success)
        throw new Error(`${name}.jsonl:${lineNo}: ${z.prettifyError(parsed.error)}`);
      if (parsed.data.batch !== name)
        throw new Error(`${name}.jsonl:${lineNo}: batch field is ${parsed.data.batch}`);
      return parsed.data;
    });
  return { name, split: match[2] as 'train' | 'test', items };
}

/** Every batch in the corpus directory, sorted by name; ids must be unique across the corpus. */
export function loadCorpus(dir: URL = CORPUS_DIR): CorpusBatch[] {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => f.slice(0, -'.jsonl'.length))
    .sort();
  const batches = names.map((name) =>
    parseBatch(name, readFileSync(new URL(`${name}.jsonl`, dir), 'utf8')),
  );
  const seen = new Set<string>();
  for (const b of batches)
    for (const item of b.items) {
      if (seen.has(item.id)) throw new Error(`duplicate corpus id ${item.id}`);
      seen.add(item.id);
    }
  return batches;
}

/**
 * Round nine's blind set: 60 conversations written without looking at the corpus, never
 * trained on (docs/assist.md, "Unseen conversations"); scored by `eval:assist -- --split blind`
 * and held to the guarantees by test/unit/assist/unseen-conversations.test.ts.
 */
export const BLIND_SET_URL = new URL(
  '../../test/fixtures/assist/blind-round9.jsonl',
  import.meta.url,
);
export const BLIND_SET_NAME = 'blind-test-9';
/** 20 more, written after the round's fixes to check that they generalise (same batch name). */
export const BLIND_CHECK_URL = new URL(
  '../../test/fixtures/assist/blind-round9-check.jsonl',
  import.meta.url,
);
/**
 * Round ten's blind set: 60 more, written without looking at the corpus or round nine's set,
 * on other goods and situations (expiry dates, fitment, top-ups, bookings, wholesale, customs
 * duty, Thai and Vietnamese buyers...); scored by `eval:assist -- --split blind10`.
 */
export const BLIND10_SET_URL = new URL(
  '../../test/fixtures/assist/blind-round10.jsonl',
  import.meta.url,
);
export const BLIND10_SET_NAME = 'blind-test-10';
/** 20 more, written after round ten's fixes to check that they generalise (same batch name). */
export const BLIND10_CHECK_URL = new URL(
  '../../test/fixtures/assist/blind-round10-check.jsonl',
  import.meta.url,
);
export function loadBlindSet(url: URL = BLIND_SET_URL, name = BLIND_SET_NAME): CorpusBatch {
  return parseBatch(name, readFileSync(url, 'utf8'));
}

/** The assistant's input for a corpus item: its `input.locale` is the shop default, not a forced locale. */
export function assistInputOf(item: CorpusItem): AssistInput {
  const catalog = item.input.catalog && {
    products: item.input.catalog.products.map(({ deliveryDays, ...p }) => ({
      ...p,
      deliveryDays: Array.isArray(deliveryDays) ? deliveryDays : undefined,
    })),
  };
  return {
    history: item.input.history,
    catalog,
    settings: { busyNudge: false, locale: item.input.locale },
  };
}

export function isMultiTurn(item: CorpusItem): boolean {
  return item.input.history.length >= 3;
}
