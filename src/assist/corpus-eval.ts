import { namesValue } from './catalog-options';
import type { CorpusItem } from './corpus';
import { isMultiTurn } from './corpus';
import { sizeValuesIn } from './dialogue-state';
import { lexicon, matchesOf } from './lexicon';
import { STAGES, type Stage, type Tactic } from './vocabulary';

/**
 * Scores answers to corpus conversations: the figures of `npm run eval:assist`
 * and of the first-contact log, computed the same way for every engine.
 */

/** What any engine's answer must give to be scored. */
export interface ScoredAnswer {
  stage: Stage;
  locale: string;
  intent?: string;
  suggestions: ReadonlyArray<{ text: string; tactic: Tactic }>;
}

export interface Scored {
  item: CorpusItem;
  answer: ScoredAnswer;
}

const CLOSING: readonly Tactic[] = ['alternative_close', 'help_choose', 'busy_nudge'];
const ASKS_ORDER_NUMBER =
  /(?:发|發|提供|告诉|告訴|給|给|send|share|provide)[^。！？.!?]{0,12}(?:订单号|訂單號|訂單編號|单号|單號|order (?:number|id|#))/iu;
const ASKS_ADDRESS =
  /(?:发|發|提供|告诉|告訴|給|给|send|share|provide)[^。！？.!?]{0,12}(?:地址|address)/iu;
const ASKS_PHOTO =
  /(?:拍|发|發|提供|send|share|provide)[^。！？.!?]{0,12}(?:照片|图片|圖片|相片|photos?|pictures?|pics?)/iu;

/** A closing suggestion that offers a choice again on a dimension the buyer already settled. */
export function reoffersSettled(item: CorpusItem, text: string, tactic: Tactic): boolean {
  if (!CLOSING.includes(tactic)) return false;
  for (const [dimension, value] of Object.entries(item.expected.settled)) {
    const values = new Set<string>([value]);
    for (const p of item.input.catalog?.products ?? [])
      for (const v of p.options[dimension] ?? []) values.add(v);
    if (dimension === 'size') for (const v of sizeValuesIn(text)) values.add(v);
    if (dimension === 'colour' || dimension === 'color')
      for (const v of matchesOf(lexicon.colours, text)) values.add(v.toLowerCase());
    const named = new Set(
      [...values].filter((v) => namesValue(text, v)).map((v) => v.toLowerCase()),
    );
    if (named.size >= 2) return true;
  }
  return false;
}

/** A suggestion that asks for something the buyer already gave. */
export function asksForGiven(item: CorpusItem, text: string): boolean {
  const given = new Set(item.expected.given);
  return (
    (given.has('order_number') && ASKS_ORDER_NUMBER.test(text)) ||
    (given.has('address') && ASKS_ADDRESS.test(text)) ||
    (given.has('photo') && ASKS_PHOTO.test(text))
  );
}

export interface Summary {
  n: number;
  stageAccuracy: number;
  intentAccuracy: number | null;
  localeAccuracy: number;
  complaintRecall: number;
  complaintPrecision: number;
  closingOnComplaint: number;
  reoffers: number;
  asksForGiven: number;
}

const ratio = (hits: number, n: number) => (n === 0 ? Number.NaN : hits / n);

export function summarise(scored: readonly Scored[]): Summary {
  const n = scored.length;
  const hits = (f: (s: Scored) => boolean) => scored.filter(f).length;
  const complaints = scored.filter((s) => s.item.expected.stage === 'complaint');
  const flagged = scored.filter((s) => s.answer.stage === 'complaint');
  const withIntent = scored.filter((s) => s.answer.intent !== undefined);
  return {
    n,
    stageAccuracy: ratio(
      hits((s) => s.answer.stage === s.item.expected.stage),
      n,
    ),
    intentAccuracy:
      withIntent.length === 0
        ? null
        : ratio(
            withIntent.filter((s) => s.answer.intent === s.item.expected.intent).length,
            withIntent.length,
          ),
    localeAccuracy: ratio(
      hits((s) => s.answer.locale === s.item.expected.locale),
      n,
    ),
    complaintRecall: ratio(
      complaints.filter((s) => s.answer.stage === 'complaint').length,
      complaints.length,
    ),
    complaintPrecision: ratio(
      flagged.filter((s) => s.item.expected.stage === 'complaint').length,
      flagged.length,
    ),
    closingOnComplaint: complaints.filter((s) =>
      s.answer.suggestions.some((x) => CLOSING.includes(x.tactic)),
    ).length,
    reoffers: hits((s) =>
      s.answer.suggestions.some((x) => reoffersSettled(s.item, x.text, x.tactic)),
    ),
    asksForGiven: hits((s) => s.answer.suggestions.some((x) => asksForGiven(s.item, x.text))),
  };
}

/** Rows expected stage x columns read stage. */
export function confusionMatrix(scored: readonly Scored[]): Record<Stage, Record<Stage, number>> {
  const matrix = Object.fromEntries(
    STAGES.map((e) => [e, Object.fromEntries(STAGES.map((r) => [r, 0]))]),
  ) as Record<Stage, Record<Stage, number>>;
  for (const s of scored) matrix[s.item.expected.stage][s.answer.stage] += 1;
  return matrix;
}

/** Breakdowns the eval report prints. */
export function groupBy(
  scored: readonly Scored[],
  key: (s: Scored) => string,
): Array<[string, Summary]> {
  const groups = new Map<string, Scored[]>();
  for (const s of scored) {
    const k = key(s);
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, summarise(v)]);
}

export const byLocale = (s: Scored) => s.item.expected.locale;
export const byRegion = (s: Scored) => s.item.region;
export const byTurns = (s: Scored) =>
  isMultiTurn(s.item) ? 'multi-turn (>=3)' : 'single/two-turn';
