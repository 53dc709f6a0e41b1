import type { Catalog } from '../shops/shop-schema';
import { lexicon, matches, matchesOf, phraseSource } from './lexicon';
import { KeyedTextMemory, memoText } from './text-memo';
import type { ChatMessage } from './vocabulary';

/** One dimension of real choices: a catalog option (colour, size...), the delivery days, or values the chat itself named. */
export interface OptionDimension {
  /** Catalog option key ("colour", "size"...) or "deliveryDays". */
  key: string;
  /** Every real value, in catalog order (or order of first mention when read from the chat). */
  values: string[];
  /** The values the conversation named, in order of first mention. */
  mentioned: string[];
}

export interface OptionsInFocus {
  /** The catalog product the conversation is about, when one can be told. */
  productName?: string;
  dimensions: OptionDimension[];
  /** Every real option value known for this conversation (for the guardrails and the option signal). */
  knownValues: string[];
}

/**
 * Whether `text` names `value`. Short Latin values ("M", "XL") are matched
 * case-sensitively as whole tokens so "I'm" is not size M; longer ones
 * case-insensitively; Chinese values as substrings.
 */
export function namesValue(text: string, value: string): boolean {
  return positionOf(text, value) >= 0;
}

/** Compiled value matchers; bounded, since catalogs change and values come from many shops. */
const valuePatterns = new Map<string, RegExp>();
const MAX_CACHED_PATTERNS = 10_000;

function valuePattern(value: string): RegExp {
  let pattern = valuePatterns.get(value);
  if (!pattern) {
    // Short codes ("M", "XL") are case-sensitive so "I'm" does not name size M.
    const flags = value.length <= 3 && /^[A-Z0-9]+$/.test(value) ? 'u' : 'iu';
    pattern = new RegExp(phraseSource(value), flags);
    if (valuePatterns.size >= MAX_CACHED_PATTERNS) valuePatterns.clear();
    valuePatterns.set(value, pattern);
  }
  return pattern;
}

/** Where `text` first names `value`, or -1. */
function positionOf(text: string, value: string): number {
  return text.search(valuePattern(value));
}

/** The values `text` names, in the order it names them. */
function valuesNamedIn(text: string, values: readonly string[]): string[] {
  return values
    .map((v) => [v, positionOf(text, v)] as const)
    .filter(([, at]) => at >= 0)
    .sort((a, b) => a[1] - b[1])
    .map(([v]) => v);
}

/** Letter sizes and shoe sizes as buyers write them, for conversations without a catalog. */
const SIZE_WORDS =
  /(?<![A-Za-z0-9])(?:XXS|XS|XXXL|XXL|XL|[2-4]XL|S|M|L)(?![A-Za-z])|(?<!\d)(?:3[4-9]|4[0-6])(?:码|碼|号|號)|均码|均碼/gu;

/**
 * The colour and size words a text names, remembered per text: without a catalog, every
 * suggestion reads the whole recent history for them again (the colours are one large pattern).
 */
const coloursNamedIn = memoText((text: string): readonly string[] =>
  matchesOf(lexicon.colours, text).map((c) => c.toLowerCase()),
);
const sizesNamedIn = memoText((text: string): readonly string[] => matchesOf(SIZE_WORDS, text));

function inOrderOfMention(
  texts: readonly string[],
  found: (text: string) => readonly string[],
): string[] {
  const out: string[] = [];
  for (const text of texts) for (const v of found(text)) if (!out.includes(v)) out.push(v);
  return out;
}

/**
 * Words of a product name that name it alone: "tote" for "Canvas Tote" when no
 * other product is called a tote. Latin names only; Chinese names have no
 * word breaks to split on, so they must be named in full.
 */
function distinctiveWords(products: Catalog['products']): Map<string, string[]> {
  const wordsOf = (name: string) => name.toLowerCase().match(/[a-z]{3,}/g) ?? [];
  const counts = new Map<string, number>();
  for (const p of products)
    for (const w of new Set(wordsOf(p.name))) counts.set(w, (counts.get(w) ?? 0) + 1);
  return new Map(products.map((p) => [p.id, wordsOf(p.name).filter((w) => counts.get(w) === 1)]));
}

/**
 * What a catalog answers about a text, remembered per catalog and text: every suggestion
 * re-reads the recent history against every product, and the shop registry hands out the
 * same catalog object for as long as the shop's catalog is unchanged. One bounded memory
 * for all catalogs (dropped whole when full, like the per-text memory).
 */
function memoByCatalog<R>(
  fn: (catalog: CatalogIndex, text: string) => R,
): (catalog: Catalog, text: string) => R {
  // Keyed by the catalog's index, then by the text itself: a key built of both would be a new
  // string per call, hashed again in full every time; a text's own hash is computed once.
  const memory = new KeyedTextMemory<R>();
  return (catalog, text) => {
    const index = catalogIndex(catalog);
    const known = memory.get(index.id, text);
    if (known !== undefined) return known;
    const value = fn(index, text);
    memory.set(index.id, text, value);
    return value;
  };
}

/** What is computed once per catalog object. */
interface CatalogIndex {
  id: number;
  products: Catalog['products'];
  distinctive: Map<string, string[]>;
  /** Every product name, distinctive word and option value. */
  names: string[];
}

const catalogIndexes = new WeakMap<Catalog, CatalogIndex>();
let nextCatalogId = 0;

function catalogIndex(catalog: Catalog): CatalogIndex {
  let index = catalogIndexes.get(catalog);
  if (!index) {
    const { products } = catalog;
    const distinctive = distinctiveWords(products);
    index = {
      id: nextCatalogId++,
      products,
      distinctive,
      names: products.flatMap((p) => [
        p.name,
        ...(distinctive.get(p.id) ?? []),
        ...Object.values(p.options).flat(),
      ]),
    };
    catalogIndexes.set(catalog, index);
  }
  return index;
}

/** Indices of the products the text names by name or by a distinctive word. */
const namedByName = memoByCatalog(({ products, distinctive }, text) =>
  indicesWhere(
    products,
    (p) =>
      namesValue(text, p.name) || (distinctive.get(p.id) ?? []).some((w) => namesValue(text, w)),
  ),
);

/** Indices of the products one of whose option values the text names. */
const namedByValue = memoByCatalog(({ products }, text) =>
  indicesWhere(products, (p) =>
    Object.values(p.options).some((vs) => vs.some((v) => namesValue(text, v))),
  ),
);

/** Whether the text names a product, an option value, or a colour or size word. */
const mentionsIn = memoByCatalog(
  ({ names }, text) =>
    names.some((v) => namesValue(text, v)) ||
    matches(lexicon.colours, text) ||
    matches(SIZE_WORDS, text),
);

function indicesWhere<T>(items: readonly T[], test: (item: T) => boolean): number[] {
  const out: number[] = [];
  items.forEach((item, i) => {
    if (test(item)) out.push(i);
  });
  return out;
}

function productInFocus(
  catalog: Catalog,
  texts: readonly string[],
): Catalog['products'][number] | undefined {
  const { products } = catalog;
  if (products.length === 1) return products[0];
  // The most recently named product; failing that, the one whose option values were named most recently.
  for (let i = texts.length - 1; i >= 0; i -= 1) {
    const byName = namedByName(catalog, texts[i] ?? '');
    if (byName.length === 1) return products[byName[0]!];
  }
  for (let i = texts.length - 1; i >= 0; i -= 1) {
    const byValue = namedByValue(catalog, texts[i] ?? '');
    if (byValue.length === 1) return products[byValue[0]!];
  }
  return undefined;
}

/**
 * The real options this conversation can offer: from the catalog product in
 * focus when there is one, otherwise only the colours and sizes the chat
 * itself named. Nothing here is ever invented.
 */
export function findOptions(
  history: readonly ChatMessage[],
  catalog: Catalog | undefined,
): OptionsInFocus {
  const texts = history.map((m) => m.text);
  const product = catalog ? productInFocus(catalog, texts) : undefined;
  if (product) {
    const entries = Object.entries(product.options);
    if (product.deliveryDays) entries.push(['deliveryDays', product.deliveryDays]);
    const dimensions = entries
      .filter(([, values]) => values.length > 0)
      .map(([key, values]) => ({
        key,
        values: [...values],
        mentioned: inOrderOfMention(texts, (t) => valuesNamedIn(t, values)),
      }));
    return {
      productName: product.name,
      dimensions,
      knownValues: dimensions.flatMap((d) => d.values),
    };
  }
  if (catalog && catalog.products.length > 0) {
    // Several products and none in focus: offer no options rather than guess which product they belong to.
    const knownValues = catalog.products.flatMap((p) => [
      ...Object.values(p.options).flat(),
      ...(p.deliveryDays ?? []),
    ]);
    return { dimensions: [], knownValues };
  }
  const colours = inOrderOfMention(texts, coloursNamedIn);
  const sizes = inOrderOfMention(texts, sizesNamedIn);
  const dimensions = [
    { key: 'colour', values: colours, mentioned: colours },
    { key: 'size', values: sizes, mentioned: sizes },
  ].filter((d) => d.values.length > 0);
  return { dimensions, knownValues: [...colours, ...sizes] };
}

/**
 * Whether `text` names a catalog product, an option value, or a colour or size
 * word: a buyer asking about a named product or option is interested in it.
 */
export function productMentionDetector(catalog: Catalog | undefined): (text: string) => boolean {
  const read = catalog ?? NO_CATALOG;
  return (text) => mentionsIn(read, text);
}

/** The reader of "no catalog" (colour and size words only), shared by every call without one. */
const NO_CATALOG: Catalog = { products: [] };

/**
 * The catalog products a conversation mentions, in catalog order: by name,
 * by a word of the name no other product shares, or by an option value only
 * that product has.
 */
export function productsNamedIn(
  catalog: Catalog | undefined,
  texts: readonly string[],
): Catalog['products'] {
  const products = catalog?.products ?? [];
  const distinctive = distinctiveWords(products);
  const owners = new Map<string, number>();
  for (const p of products)
    for (const v of new Set(Object.values(p.options).flat()))
      owners.set(v, (owners.get(v) ?? 0) + 1);
  return products.filter((p) => {
    const words = [
      p.name,
      ...(distinctive.get(p.id) ?? []),
      ...Object.values(p.options)
        .flat()
        .filter((v) => owners.get(v) === 1),
    ];
    return texts.some((text) => words.some((w) => namesValue(text, w)));
  });
}
