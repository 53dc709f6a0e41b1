import { pickAlternative } from './alternative-close';
import { findOptions, type OptionsInFocus, productMentionDetector } from './catalog-options';
import { type ReplyTemplates, templatesFor } from './lexicon';
import { detectLocale } from './locale-detection';
import { type ConversationReading, classifyConversation } from './stage-classifier';
import type {
  AssistInput,
  DraftSuggestion,
  EngineDraft,
  Locale,
  SignalName,
} from './vocabulary';

/**
 * The deterministic engine: reads the conversation with the lexicons, picks
 * tactics as the source teaches, and fills templates only with catalog or
 * conversation data. No network, no randomness, never throws on valid input.
 */

export interface ConversationAnalysis {
  locale: Locale;
  reading: ConversationReading;
  options: OptionsInFocus;
}

/** Options listed in one help-choose reply: more than four no longer fits one chat message. */
const MAX_LISTED_VALUES = 4;
/** Two delaying messages make a buyer "chronically indecisive" in the source's sense. */
const CHRONIC_HESITATION = 2;
/** Buying signals in two or more messages are the source's "repeated buying signals". */
const REPEATED_BUYING_SIGNALS = 2;

export function analyseConversation(input: AssistInput): ConversationAnalysis {
  const buyerTexts = input.history.filter((m) => m.from === 'buyer').map((m) => m.text);
  const locale =
    input.locale ??
    detectLocale(buyerTexts.length > 0 ? buyerTexts : input.history.map((m) => m.text));
  const reading = classifyConversation(input.history, productMentionDetector(input.catalog));
  return { locale, reading, options: findOptions(input.history, input.catalog) };
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

function listValues(values: readonly string[], t: ReplyTemplates): string {
  const shown = values.slice(0, MAX_LISTED_VALUES);
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(t.listSeparator)}${t.listLastSeparator}${shown[shown.length - 1]}`;
}

/** Questions the "answer" tactic can reply to, most order-relevant first. */
const ANSWERABLE = [
  'asks_how_to_order',
  'asks_payment',
  'will_buy',
  'asks_delivery',
  'asks_stock',
  'asks_price',
  'asks_discount',
] as const satisfies readonly SignalName[];

/** Builds each tactic's reply for one conversation; a tactic without honest material returns null. */
function replyWriter(analysis: ConversationAnalysis) {
  const { reading, options } = analysis;
  const t = templatesFor(analysis.locale);
  const product = options.productName
    ? fill(t.productName, { name: options.productName })
    : t.productFallback;
  const label = (key: string) => t.optionLabels[key] ?? t.optionLabels._other ?? key;
  const deliveryDays = options.dimensions.find((d) => d.key === 'deliveryDays');

  return {
    greeting: (): DraftSuggestion => ({
      tactic: 'greeting',
      text: t.greeting[0] ?? t.answer.general,
    }),
    /** A reply to the buyer's question; with `onlyIfAsked`, null when there was no answerable question. */
    answer: (onlyIfAsked = false): DraftSuggestion | null => {
      const asked = ANSWERABLE.find((s) => reading.focusSignals.has(s));
      if (onlyIfAsked && !asked) return null;
      if (asked === 'asks_delivery' && deliveryDays) {
        return {
          tactic: 'answer',
          text: fill(t.answer.delivery_days, {
            product,
            values: listValues(deliveryDays.values, t),
          }),
        };
      }
      const template = asked ? t.answer[asked] : t.answer.general;
      return { tactic: 'answer', text: fill(template, { product }) };
    },
    afterSale: (): DraftSuggestion => ({
      tactic: 'answer',
      text: t.afterSale[reading.afterSaleTopic],
    }),
    empathy: (): DraftSuggestion => ({
      tactic: 'empathy',
      text: t.empathy[reading.complaintTopic],
    }),
    reassure: (): DraftSuggestion => ({ tactic: 'empathy', text: t.empathy.reassure }),
    helpChoose: (): DraftSuggestion => {
      // The dimension the buyer already talked about, else the first real product option.
      const choosable = options.dimensions.filter(
        (d) => d.key !== 'deliveryDays' && d.values.length >= 2,
      );
      const dimension = choosable.find((d) => d.mentioned.length > 0) ?? choosable[0];
      if (dimension) {
        return {
          tactic: 'help_choose',
          text: fill(t.helpChoose.options, {
            product,
            label: label(dimension.key),
            values: listValues(dimension.values, t),
          }),
        };
      }
      const sizeQuestion =
        reading.asksAboutSize && options.dimensions.every((d) => d.key !== 'size');
      return {
        tactic: 'help_choose',
        text: sizeQuestion ? t.helpChoose.size : t.helpChoose.generic,
      };
    },
    alternativeClose: (): DraftSuggestion | null => {
      const pair = pickAlternative(options);
      if (!pair) return null;
      const template =
        pair.key === 'deliveryDays' ? t.alternativeClose.delivery : t.alternativeClose.option;
      return {
        tactic: 'alternative_close',
        text: fill(template, { product, a: pair.a, b: pair.b }),
      };
    },
    optionCheck: (): DraftSuggestion | null => {
      // Only without a catalog product, and only the single value the buyer named: nothing is promised but a check.
      if (options.productName) return null;
      const named = options.dimensions.filter((d) => d.values.length === 1);
      const value = named.length === 1 ? named[0]?.values[0] : undefined;
      return value ? { tactic: 'answer', text: fill(t.answer.option_check, { value }) } : null;
    },
    busyNudge: (): DraftSuggestion => ({ tactic: 'busy_nudge', text: t.busyNudge }),
    followUp: (): DraftSuggestion => {
      const stage = reading.stage;
      const text =
        stage === 'hesitating' || stage === 'ready' || stage === 'after_sale'
          ? t.followUp[stage]
          : t.followUp.default;
      return { tactic: 'follow_up', text };
    },
  };
}

/** The tactics for this conversation, best first, as the source teaches them. */
function planReplies(
  analysis: ConversationAnalysis,
  busyNudgeEnabled: boolean,
): Array<DraftSuggestion | null> {
  const { reading } = analysis;
  const write = replyWriter(analysis);
  switch (reading.stage) {
    case 'complaint':
      // Empathy first and only: never a closing tactic on an unhappy buyer.
      return [write.empathy(), write.reassure()];
    case 'after_sale':
      return [reading.awaitingBuyer ? write.followUp() : null, write.afterSale()];
    case 'browsing': {
      const opener =
        reading.lastIsGreeting && !reading.awaitingBuyer ? write.greeting() : write.answer();
      return [reading.awaitingBuyer ? write.followUp() : null, opener, write.helpChoose()];
    }
    case 'interested':
      // Interested but not ready: help them choose, no talk of ordering.
      return [
        reading.awaitingBuyer ? write.followUp() : null,
        write.helpChoose(),
        write.optionCheck(),
        write.answer(true),
      ];
    case 'ready':
      return [
        reading.awaitingBuyer ? write.followUp() : null,
        write.answer(),
        write.alternativeClose(),
      ];
    case 'hesitating': {
      const followUp = reading.awaitingBuyer ? write.followUp() : null;
      if (busyNudgeEnabled && reading.hesitationMessages >= CHRONIC_HESITATION) {
        return [followUp, write.busyNudge(), write.alternativeClose() ?? write.helpChoose()];
      }
      const close =
        reading.buyingMessages >= REPEATED_BUYING_SIGNALS ? write.alternativeClose() : null;
      return [followUp, close, write.helpChoose()];
    }
  }
}

export function draftWithRules(
  analysis: ConversationAnalysis,
  busyNudgeEnabled: boolean,
): EngineDraft {
  const suggestions: DraftSuggestion[] = [];
  for (const draft of planReplies(analysis, busyNudgeEnabled)) {
    if (draft && !suggestions.some((s) => s.text === draft.text)) suggestions.push(draft);
  }
  const { stage, sentiment, signals } = analysis.reading;
  return {
    stage,
    sentiment,
    signals: [...signals],
    suggestions: suggestions.slice(0, MAX_SUGGESTIONS),
  };
}
