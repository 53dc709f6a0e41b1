import type { Catalog } from '../shops/shop-schema';

/**
 * The assist vocabulary: every name the assistant reads, writes or is scored
 * on, and the data types that cross module boundaries. Every other module in
 * src/assist imports these from here (never from each other's public types),
 * which keeps the import graph free of cycles.
 */

export const LOCALES = ['zh-Hans', 'zh-Hant', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** The buyer's place in the sale, judged from the whole conversation (corpus label guide). */
export const STAGES = [
  'browsing',
  'interested',
  'ready',
  'hesitating',
  'complaint',
  'after_sale',
] as const;
export type Stage = (typeof STAGES)[number];

export const TACTICS = [
  'greeting',
  'answer',
  'empathy',
  'help_choose',
  'alternative_close',
  'busy_nudge',
  'follow_up',
] as const;
export type Tactic = (typeof TACTICS)[number];

/** Tactics that push towards a sale: they need buying evidence and no sign of trouble. */
export const CLOSING_TACTICS: readonly Tactic[] = [
  'alternative_close',
  'help_choose',
  'busy_nudge',
];

export const SENTIMENTS = ['positive', 'neutral', 'negative'] as const;
export type Sentiment = (typeof SENTIMENTS)[number];

/** What the buyer's last message is about, read in context (corpus label guide). */
export const INTENTS = [
  'greeting',
  'general',
  'size',
  'colour',
  'material',
  'stock',
  'delivery',
  'shipping_fee',
  'invoice',
  'payment',
  'price',
  'haggling',
  'hesitation',
  'comparing',
  'ready',
  'order_status',
  'wrong_item',
  'damaged',
  'late_parcel',
  'defect',
  'refund',
  'exchange',
  'address_change',
  'review_threat',
  'service_complaint',
  'other',
] as const;
export type Intent = (typeof INTENTS)[number];

/** Lexicon signals found in the buyer's messages (returned to callers as `signals`). */
export const SIGNAL_NAMES = [
  'asks_price',
  'asks_option',
  'asks_stock',
  'asks_delivery',
  'asks_discount',
  'asks_how_to_order',
  'asks_payment',
  'will_buy',
  'hesitation',
  'just_browsing',
  'complaint',
  'after_sale',
  'before_buying',
  'instruction_like_text',
] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

/** What a buyer can have handed over already; a reply never asks for it again. */
export const GIVEN_KINDS = [
  'order_number',
  'address',
  'phone',
  'name',
  'photo',
  'tracking_number',
] as const;
export type GivenKind = (typeof GIVEN_KINDS)[number];

export const COMPLAINT_TOPICS = ['delivery', 'quality', 'service'] as const;
export type ComplaintTopic = (typeof COMPLAINT_TOPICS)[number];
export const AFTER_SALE_TOPICS = [
  'tracking',
  'return',
  'cancel',
  'exchange',
  'invoice',
  'address',
] as const;
export type AfterSaleTopic = (typeof AFTER_SALE_TOPICS)[number];

export interface ChatMessage {
  from: 'buyer' | 'agent';
  text: string;
  at?: string;
}

export interface AssistSettings {
  busyNudge?: boolean;
  /** The shop's default reply locale, for messages with no script of their own ("？", "ok", an order id). */
  locale?: Locale;
  /** The shop's own domains: the only ones a suggestion may link to. */
  linkDomains?: string[];
}

export interface AssistInput {
  history: ChatMessage[];
  /** The reply locale, when the caller knows it; it overrides detection. */
  locale?: Locale;
  catalog?: Catalog;
  settings?: AssistSettings;
}

/** What the conversation has established so far (see dialogue-state.ts). */
export interface DialogueState {
  /** Option values the buyer fixed: {dimension: value}. */
  settled: Record<string, string>;
  /** What the buyer already handed over. */
  given: GivenKind[];
  /** The buyer's latest unanswered question, redacted, when the last buyer turn asks one. */
  openQuestion: string | null;
  /** Mood over the buyer's last turns. */
  mood: Sentiment;
}

export interface Suggestion {
  id: string;
  text: string;
  tactic: Tactic;
}

export interface AssistResult {
  stage: Stage;
  sentiment: Sentiment;
  signals: string[];
  locale: Locale;
  suggestions: Suggestion[];
  engine: 'rules' | 'openai';
  /** What the buyer's last message is about. */
  intent: Intent;
  /** The reader's probability for `stage` (0–1). */
  confidence: number;
  state: DialogueState;
}

export type FallbackReason = 'timeout' | 'error' | 'invalid_output' | 'guardrail';

export interface DraftSuggestion {
  text: string;
  tactic: Tactic;
}

export interface EngineDraft {
  stage: Stage;
  sentiment: Sentiment;
  signals: string[];
  suggestions: DraftSuggestion[];
}

/** At most this many suggestions per answer; the first is the best. */
export const MAX_SUGGESTIONS = 3;
