import { z } from 'zod';
import { SIGNAL_NAMES, type SignalName } from './vocabulary';

/**
 * The schemas of the data files under `lexicon/`. Checked by the unit tests
 * (test/unit/assist/lexicon-files.test.ts), not at start-up: the files are
 * committed with the code, and zod would be most of the assistant's cold start.
 */

const phrases = z.array(z.string().min(1));
export const lexiconFileSchema = z.object({
  greeting: phrases,
  signals: z.object(
    Object.fromEntries(SIGNAL_NAMES.map((name) => [name, phrases])) as Record<
      SignalName,
      typeof phrases
    >,
  ),
  complaintTopics: z.object({ delivery: phrases, quality: phrases, service: phrases }),
  afterSaleTopics: z.object({
    tracking: phrases,
    return: phrases,
    cancel: phrases,
    exchange: phrases,
    invoice: phrases,
    address: phrases,
  }),
  sentiment: z.object({ positive: phrases, negative: phrases }),
  colours: phrases,
  /** Words that make a question about size and fit (asking height and weight only makes sense then). */
  sizeWords: phrases,
  /** Everyday phrases holding a signal word that mean something else ("torn between"): removed before signals are read. */
  idioms: phrases,
  /** A thank-you or an acknowledgement ("thx", "收到", "👍"): with nothing asked, a warm close. */
  acknowledgements: phrases,
  /** Words a question about material, make or behaviour names: the material answer needs one. */
  materialWords: phrases,
  /** Placeholders platforms put for a voice message ("[语音]", "[Voice message]"). */
  voiceNotes: phrases,
  /** A request for the agent's own contact ("加个微信", "your personal number"): kept in the shop's chat. */
  personalContact: phrases,
  /** Words of a bulk or wholesale purchase ("批发", "wholesale"): a price for it is a quote to ask for. */
  bulkWords: phrases,
  /** Words of a question whether the item fits the buyer's car or device: listing options answers none. */
  compatibilityWords: phrases,
  /** Import duty and customs words: a question about them is checked, never answered with the shipping fee. */
  dutyWords: phrases,
  /** Using two offers together ("叠加", "stack"): whether they combine is checked, never promised. */
  stackingWords: phrases,
  /** Goods with no parcel (top-ups, gift cards, codes): never tracked like a parcel. */
  digitalGoods: phrases,
});

const text = z.string().min(1);

/** After-sale replies per topic; a second set, for when the order number was given, has the same topics. */
const afterSaleReplies = z.object({
  tracking: text,
  return: text,
  cancel: text,
  exchange: text,
  invoice: text,
  address: text,
  /** A question about the item in hand (how to use it, is this normal): a closer look, not the order number. */
  usage: text,
  /** A thank-you with nothing asked: a warm close. */
  thanks: text,
  general: text,
});
export const templatesFileSchema = z.object({
  /** How a catalog product is referred to ("the {name}" in English). */
  productName: text,
  productFallback: text,
  listSeparator: text,
  listLastSeparator: text,
  optionLabels: z
    .record(z.string(), text)
    .refine((labels) => '_other' in labels, 'needs an _other label'),
  greeting: z.array(text).min(1),
  answer: z.object({
    asks_price: text,
    asks_stock: text,
    asks_delivery: text,
    delivery_days: text,
    asks_discount: text,
    asks_how_to_order: text,
    /** "Is there a grey one?" with no catalog to look in: promise to check the one value the buyer named. */
    option_check: text,
    asks_payment: text,
    will_buy: text,
    general: text,
    /** "Just looking": let the buyer browse. */
    just_looking: text,
    /** A question nothing more specific answers (no catalog, no known topic): take it up. */
    question: text,
    material: text,
    shipping_fee: text,
    invoice: text,
    hesitation: text,
    comparing: text,
    /** Low confidence: ask what the buyer needs instead of guessing (never a pitch). */
    clarify: text,
    /** Every option is settled: confirm the choice instead of offering it again. */
    confirm_choice: text,
    /** A voice message the console shows only as a placeholder: ask for it in writing too. */
    voice_note: text,
    /** A thank-you or a nod ("thx", "👍") outside any sale or order: a short warm close. */
    acknowledged: text,
    /** The buyer asks for the agent's own WeChat or number: the chat stays in the shop's channel. */
    personal_contact: text,
    /** A price for a bulk or wholesale quantity: a quote the agent asks the shop for, never the page price. */
    bulk_quote: text,
    /** A question read as after-sale with no sign of an order: checked, no order number asked, no pitch. */
    check: text,
    /** Import duty or customs before buying: the agent checks it for the buyer's country. */
    duty_check: text,
    /** Whether two offers or codes can be used together: the agent checks, nothing is promised. */
    coupon_check: text,
  }),
  /**
   * A second question in the same message ("有货吗？几天能到？"), answered after the first:
   * one clause per answerable topic, and `other` for a question nothing specific answers.
   * None for a discount: a clause about offers reads as a promise the shop never configured.
   */
  also: z.object({
    asks_price: text,
    asks_stock: text,
    asks_delivery: text,
    asks_payment: text,
    other: text,
  }),
  afterSale: afterSaleReplies,
  /** After-sale replies when the buyer already gave the order number: never ask for it again. */
  afterSaleGiven: afterSaleReplies,
  empathy: z.object({
    delivery: text,
    quality: text,
    service: text,
    general: text,
    reassure: text,
  }),
  /**
   * Empathy once the buyer gave what a check needs: photos of the problem (quality), or the
   * order number (general: the agent looks the order up instead of asking to hear it again).
   */
  empathyGiven: z.object({ quality: text, general: text }),
  helpChoose: z.object({
    options: text,
    /** The size options, when the buyer asked which size fits: asks height and weight. */
    options_size: text,
    /** The size options, when the buyer already gave height or weight. */
    options_size_given: text,
    size: text,
    /** No size options known and the buyer gave height or weight: never asked again. */
    size_given: text,
    generic: text,
  }),
  alternativeClose: z.object({ option: text, delivery: text }),
  busyNudge: text,
  followUp: z.object({ default: text, hesitating: text, ready: text, after_sale: text }),
});
export type ReplyTemplates = z.infer<typeof templatesFileSchema>;
export type LexiconFile = z.infer<typeof lexiconFileSchema>;

const byLocale = z.object({ 'zh-Hans': phrases, 'zh-Hant': phrases, en: phrases });
export const bannedClaimsFileSchema = z.object({
  absoluteClaims: byLocale,
  unconfiguredPromises: byLocale,
  allowedPhrases: byLocale,
});

export type BannedClaimsFile = z.infer<typeof bannedClaimsFileSchema>;
export type PhrasesByLocale = z.infer<typeof byLocale>;
