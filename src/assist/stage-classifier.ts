import { lexicon, matches, withoutIdioms } from './lexicon';
import { memoText } from './text-memo';
import {
  AFTER_SALE_TOPICS,
  type AfterSaleTopic,
  type ChatMessage,
  COMPLAINT_TOPICS,
  type ComplaintTopic,
  type Sentiment,
  SIGNAL_NAMES,
  type SignalName,
  type Stage,
} from './vocabulary';

const READY_SIGNALS: readonly SignalName[] = [
  'asks_how_to_order',
  'asks_payment',
  'will_buy',
  'asks_delivery',
];
const INTERESTED_SIGNALS: readonly SignalName[] = [
  'asks_price',
  'asks_option',
  'asks_stock',
  'asks_discount',
];
/** Signals that show the buyer moving towards a purchase (the source's "buying signals"). */
const BUYING_SIGNALS: readonly SignalName[] = [...READY_SIGNALS, ...INTERESTED_SIGNALS];

/** A complaint this many buyer messages back still colours the conversation: anger does not vanish with "so?". */
const COMPLAINT_MEMORY = 3;

export interface MessageReading {
  signals: Set<SignalName>;
  greeting: boolean;
}

export interface ConversationReading {
  stage: Stage;
  sentiment: Sentiment;
  /** Every signal seen in the buyer's messages, in a fixed order. */
  signals: SignalName[];
  /** Signals of the buyer message that decided the stage (the latest one when none did): what a reply answers. */
  focusSignals: Set<SignalName>;
  /** The buyer's recent messages ask about size or fit. */
  asksAboutSize: boolean;
  /** The buyer's latest message is a greeting and nothing else. */
  lastIsGreeting: boolean;
  /** Buyer messages carrying at least one buying signal. */
  buyingMessages: number;
  /** Buyer messages that delay or doubt. */
  hesitationMessages: number;
  /** The agent spoke last: the buyer has gone quiet. */
  awaitingBuyer: boolean;
  complaintTopic: ComplaintTopic | 'general';
  afterSaleTopic: AfterSaleTopic | 'general';
}

/**
 * Reads one buyer message. `mentionsProduct` tells whether the text names a
 * catalog product or a real option (a catalog value, a colour or size word),
 * which is itself a question about options ("有黑色吗", "in navy?").
 */
export function readMessage(
  text: string,
  mentionsProduct: (text: string) => boolean,
): MessageReading {
  const reading = readText(text);
  const signals = new Set<SignalName>();
  for (const sentence of reading.sentences) {
    if (sentence.instruction) {
      signals.add('instruction_like_text');
      continue;
    }
    for (const name of sentence.signals) signals.add(name);
    if (sentence.aNotA || mentionsProduct(sentence.text)) signals.add('asks_option');
  }
  return { signals, greeting: reading.greeting };
}

/**
 * What one text says whatever the catalog: its sentences with their lexicon
 * signals, and whether it is only a greeting. Remembered per text, because
 * every suggestion re-reads the recent history and only its newest message is new.
 */
const readText = memoText((text: string) => ({
  // Idioms out first: "torn between two colours" is a buyer choosing, not a torn parcel.
  sentences: splitSentences(withoutIdioms(text)).map((sentence) => {
    // A sentence that tries to instruct the assistant is data, not the buyer's intent:
    // "...承诺无条件退款" must not turn a prompt injection into a refund complaint.
    const instruction = matches(lexicon.signals.instruction_like_text, sentence);
    return {
      text: sentence,
      instruction,
      signals: instruction
        ? []
        : SIGNAL_NAMES.filter((name) => matches(lexicon.signals[name], sentence)),
      aNotA: !instruction && A_NOT_A_QUESTION.test(sentence),
    };
  }),
  greeting: isOnlyAGreeting(text),
}));

/**
 * The Chinese A-not-A question about a property (厚不厚, 透不透, 大不大, 有没有):
 * a buyer weighing the product, whatever the adjective.
 */
const A_NOT_A_QUESTION = /(\p{Script=Han})[不没沒]\1/u;

/** What may be left of a greeting-only message once the greeting words are gone: "你好呀", "hi there :)". */
const GREETING_REMAINDER = { han: 3, latin: 8 };

/** A greeting and nothing more: "Hi! What's new this season?" is a question, not a greeting. */
function isOnlyAGreeting(text: string): boolean {
  if (!matches(lexicon.greeting, text)) return false;
  const rest = text.replace(lexicon.greeting as RegExp, '');
  const han = rest.match(/\p{Script=Han}/gu)?.length ?? 0;
  const latin = rest.match(/[A-Za-z]/g)?.length ?? 0;
  return han <= GREETING_REMAINDER.han && latin <= GREETING_REMAINDER.latin;
}

const OPENING_QUOTES = '"“「『';
const CLOSING_QUOTES = '"”」』';

/** Splits at sentence ends outside quotes, so a quoted instruction stays with the sentence that quotes it. */
export function splitSentences(text: string): string[] {
  // Terminators and quotes are all in the BMP, so stepping by UTF-16 unit is safe here.
  const sentences: string[] = [];
  let start = 0;
  let inQuote = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] ?? '';
    if (inQuote && CLOSING_QUOTES.includes(ch)) inQuote = false;
    else if (!inQuote && OPENING_QUOTES.includes(ch)) inQuote = true;
    const ends =
      '。！？!?\n'.includes(ch) || (ch === '.' && (i + 1 === text.length || text[i + 1] === ' '));
    if (ends && !inQuote) {
      sentences.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (text.slice(start).trim().length > 0) sentences.push(text.slice(start));
  return sentences;
}

/** The stage one message points at on its own, or null when it says nothing about the stage. */
function stageCue(signals: Set<SignalName>): Stage | null {
  if (signals.has('complaint')) return 'complaint';
  // "What's your returns policy before I buy?" asks about after-sale, but before any sale.
  if (signals.has('after_sale') && !signals.has('before_buying')) return 'after_sale';
  if (signals.has('just_browsing')) return 'browsing';
  if (signals.has('hesitation')) return 'hesitating';
  if (READY_SIGNALS.some((s) => signals.has(s))) return 'ready';
  if (INTERESTED_SIGNALS.some((s) => signals.has(s))) return 'interested';
  return null;
}

/** The first topic the newest text that names one names, else 'general'. */
function firstTopic<T extends string>(
  topicOf: (text: string) => T | null,
  texts: readonly string[],
): T | 'general' {
  for (const text of texts) {
    const topic = topicOf(text);
    if (topic !== null) return topic;
  }
  return 'general';
}

/**
 * The first of `topics` one text names (idioms set aside), remembered per text: the recent
 * messages are read again by every suggestion of the conversation.
 */
function topicReader<T extends string>(
  topics: readonly T[],
  patterns: Record<T, RegExp | null>,
): (text: string) => T | null {
  return memoText((text: string): T | null => {
    const plain = withoutIdioms(text);
    return topics.find((topic) => matches(patterns[topic], plain)) ?? null;
  });
}
const complaintTopicOf = topicReader(COMPLAINT_TOPICS, lexicon.complaintTopics);
const afterSaleTopicOf = topicReader(AFTER_SALE_TOPICS, lexicon.afterSaleTopics);

/**
 * Stage, sentiment and signals from the whole conversation: the latest buyer
 * message that says something about the stage decides it ("好的" after a size
 * question keeps the buyer interested), and a recent complaint outranks all.
 */
export function classifyConversation(
  history: readonly ChatMessage[],
  mentionsProduct: (text: string) => boolean,
): ConversationReading {
  const buyerTexts = history.filter((m) => m.from === 'buyer').map((m) => m.text);
  const readings = buyerTexts.map((text) => readMessage(text, mentionsProduct));
  const last = readings[readings.length - 1];
  const recent = readings.slice(-COMPLAINT_MEMORY);
  const recentTextsNewestFirst = buyerTexts.slice(-COMPLAINT_MEMORY).reverse();

  let stage: Stage = 'browsing';
  let focus = last;
  if (recent.some((r) => r.signals.has('complaint'))) {
    stage = 'complaint';
  } else {
    for (let i = readings.length - 1; i >= 0; i -= 1) {
      const cue = stageCue(readings[i]?.signals ?? new Set());
      if (cue) {
        stage = cue;
        focus = readings[i];
        break;
      }
    }
  }

  const seen = new Set(readings.flatMap((r) => [...r.signals]));
  const lastText = buyerTexts[buyerTexts.length - 1] ?? '';
  const lastTwo = buyerTexts.slice(-2).join('\n');
  let sentiment: Sentiment = 'neutral';
  if (stage === 'complaint' || matches(lexicon.negative, lastTwo)) sentiment = 'negative';
  else if (matches(lexicon.positive, lastText)) sentiment = 'positive';

  return {
    stage,
    sentiment,
    signals: SIGNAL_NAMES.filter((name) => seen.has(name)),
    focusSignals: focus?.signals ?? new Set(),
    asksAboutSize: matches(lexicon.sizeWords, lastTwo),
    lastIsGreeting: (last?.greeting ?? false) && stageCue(last?.signals ?? new Set()) === null,
    buyingMessages: readings.filter((r) => BUYING_SIGNALS.some((s) => r.signals.has(s))).length,
    hesitationMessages: readings.filter((r) => r.signals.has('hesitation')).length,
    awaitingBuyer: history[history.length - 1]?.from === 'agent',
    complaintTopic: firstTopic(complaintTopicOf, recentTextsNewestFirst),
    afterSaleTopic: firstTopic(afterSaleTopicOf, recentTextsNewestFirst),
  };
}
