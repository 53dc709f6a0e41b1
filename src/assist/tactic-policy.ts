import type { DialogueState, Intent, Sentiment, Stage } from './vocabulary';

/**
 * The safety policy for tactics, applied before any reply is written:
 * - a closing tactic (either-or, help-choose, busy nudge) needs positive
 *   evidence of buying intent and no sign of trouble (complaint or after-sale
 *   reading or probability, negative mood, complaint words, an order number);
 * - a low-confidence reading gets a neutral answer or a clarifying question,
 *   never a pitch;
 * - a complaint or anger gets empathy first;
 * - a pre-sale reading of a last message with complaint words and some complaint probability
 *   ("发错颜色了…重新寄到<address>" read as ready) may be a fault reported: no prompt to
 *   order, a reassurance and a clarifying question instead;
 * - no apology for a problem the buyer did not report: empathy is only
 *   written for a complaint or an angry buyer, never for a pre-sale question
 *   that merely names a possible problem ("会掉色吗？").
 */

/** Below this probability for the stage read, the reply asks instead of guessing. */
export const LOW_CONFIDENCE = 0.4;
/** A closing tactic needs at least this probability for a buying stage. */
export const CLOSING_CONFIDENCE = 0.5;
/** Any complaint probability above this is a sign of trouble: no pitch. */
export const TROUBLE_PROBABILITY = 0.1;
/** An existing order this likely (after-sale) is no moment for a pitch either. */
export const AFTER_SALE_PROBABILITY = 0.3;

/** Intents that are themselves evidence of wanting to buy. */
const BUYING_INTENTS: ReadonlySet<Intent> = new Set<Intent>([
  'size',
  'colour',
  'material',
  'stock',
  'delivery',
  'shipping_fee',
  'price',
  'haggling',
  'payment',
  'ready',
  'comparing',
  'hesitation',
]);
const PRE_SALE: ReadonlySet<Stage> = new Set<Stage>(['interested', 'ready', 'hesitating']);

export interface PolicyInput {
  stage: Stage;
  intent: Intent;
  /** Probability of the stage read. */
  confidence: number;
  complaintProbability: number;
  afterSaleProbability: number;
  sentiment: Sentiment;
  state: DialogueState;
  /** The lexicons saw a buying signal in at least one buyer message. */
  buyingSignals: boolean;
  /** The lexicons saw a complaint or negative words in the buyer's recent messages. */
  troubleWords: boolean;
  /** The lexicons saw a complaint word in the buyer's last message. */
  complaintWordsInLast: boolean;
}

export interface PolicyVerdict {
  closingAllowed: boolean;
  clarify: boolean;
  empathyFirst: boolean;
  /** A pre-sale reading that may be a fault reported: no prompt to order. */
  mayBeFault: boolean;
}

export function tacticPolicy(p: PolicyInput): PolicyVerdict {
  const trouble =
    p.stage === 'complaint' ||
    p.stage === 'after_sale' ||
    p.sentiment === 'negative' ||
    p.state.mood === 'negative' ||
    p.complaintProbability >= TROUBLE_PROBABILITY ||
    p.afterSaleProbability >= AFTER_SALE_PROBABILITY ||
    // An order or tracking number means an existing order: help with it, do not sell.
    p.state.given.includes('order_number') ||
    p.state.given.includes('tracking_number') ||
    p.troubleWords;
  const buyingEvidence =
    PRE_SALE.has(p.stage) &&
    (p.buyingSignals || BUYING_INTENTS.has(p.intent) || Object.keys(p.state.settled).length > 0);
  return {
    closingAllowed: buyingEvidence && !trouble && p.confidence >= CLOSING_CONFIDENCE,
    clarify: p.stage !== 'complaint' && p.confidence < LOW_CONFIDENCE,
    empathyFirst: p.stage === 'complaint' || (p.sentiment === 'negative' && p.troubleWords),
    mayBeFault:
      PRE_SALE.has(p.stage) &&
      p.complaintWordsInLast &&
      p.complaintProbability >= TROUBLE_PROBABILITY,
  };
}
