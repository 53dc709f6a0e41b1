import type { z } from 'zod';

/**
 * The platform adapter contract. An adapter only translates: it verifies a
 * delivery the way its platform signs it, turns the payload into normalized
 * events, answers the platform's handshake, and sends a text reply. It holds no
 * business rules (metering, dedupe storage, assignment live elsewhere).
 */

export const PLATFORMS = [
  'generic',
  'whatsapp',
  'messenger',
  'line',
  'wechat',
  'telegram',
  'web',
] as const;
export type PlatformName = (typeof PLATFORMS)[number];

/** What the HTTP layer hands an adapter: the body exactly as received. */
export interface InboundRequest {
  rawBody: Buffer;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  /** Milliseconds since the epoch, from the injected clock. */
  now: number;
}

/**
 * Where a message was written and where its reply goes: a one-to-one chat
 * with the buyer (`direct`), a group or room the shop's account is in
 * (`group`), or one topic of a forum group (`topic`). `id` is the platform's
 * own id of that thread (a topic's id includes its group's). Absent means the
 * direct chat with `buyer`.
 */
export type ThreadKind = 'direct' | 'group' | 'topic';
export interface Thread {
  id: string;
  kind: ThreadKind;
  /** The group's or topic's name, when the platform gives it: shown to agents. */
  title?: string;
}

interface EventBase {
  /**
   * The platform's own dedupe key for this event (webhook-id, wamid, mid,
   * webhookEventId, MsgId, update_id...). Stable across redeliveries. Always a
   * string: some platforms' ids exceed 2^53.
   */
  eventId: string;
}

/**
 * What a non-text message carries: its kind, the platform's own reference to
 * fetch it with the shop's token (WhatsApp media id, LINE message id,
 * Telegram file_id, WeChat MediaId), and a caption where the buyer gave one.
 * A location has coordinates and a label instead of a reference. The
 * message's `text` stays a readable label for consumers that show text only.
 */
export type MediaKind = 'image' | 'audio' | 'video' | 'file' | 'sticker' | 'location';
export interface MessageMedia {
  kind: MediaKind;
  ref?: string;
  mimeType?: string;
  caption?: string;
  fileName?: string;
  latitude?: number;
  longitude?: number;
  /** A location's name or address. */
  label?: string;
}

export interface MessageEvent extends EventBase {
  kind: 'message';
  messageId: string;
  /** The person who wrote (or, for an echo, was written to): what metering counts. */
  buyer: { id: string; name?: string };
  /** The conversation the message belongs to; absent = the direct chat with `buyer`. */
  thread?: Thread;
  /** `agent` = a reply typed in the platform's own client (an echo), counted as a reception. */
  from: 'buyer' | 'agent';
  agentName?: string;
  text: string;
  /** Set for images, voice, video, files, stickers and locations. */
  media?: MessageMedia;
  /** ISO-8601 instant the platform says the message was sent. */
  sentAt: string;
  /**
   * Platform data the outbound sender needs later (LINE reply token, WhatsApp
   * phone number id, Telegram chat id...). Never shown to agents.
   */
  replyContext?: Record<string, string>;
}

/**
 * The buyer asked for service without writing: a WeChat menu click, a LINE
 * postback. The platform opens a reply window for it, so the conversation
 * becomes visible to agents; it is metered only once the buyer writes.
 */
export interface OpenEvent extends EventBase {
  kind: 'open';
  buyer: { id: string; name?: string };
  thread?: Thread;
  /** A readable line for agents, e.g. "[menu] 联系客服". */
  label: string;
  sentAt: string;
  replyContext?: Record<string, string>;
}

export interface OrderEvent extends EventBase {
  kind: 'order';
  orderId: string;
  buyerId: string;
  amountFen: number;
  paidAt: string;
}

export interface RatingEvent extends EventBase {
  kind: 'rating';
  buyerId: string;
  score: number;
  ratedAt: string;
}

export type NormalizedEvent = MessageEvent | OpenEvent | OrderEvent | RatingEvent;

/** A kind name as logged: a stranger's field name is cut short. */
export function kindLabel(kind: unknown): string {
  return typeof kind === 'string' ? kind.slice(0, 64) : typeof kind;
}

/** The result of parsing one verified delivery. */
export interface ParsedDelivery {
  /** Zero or more events (batched deliveries carry several; status updates none). */
  events: NormalizedEvent[];
  /**
   * Kinds of event in the delivery that the adapter has no rule for (a
   * platform's newer feature): acknowledged, since a refusal would only be
   * retried for days, and logged by kind (never content) so none is dropped unseen.
   */
  unknownKinds?: string[];
  /**
   * Fields of the events of a batch set aside as malformed (see eachEvent):
   * the rest were taken; logged by field, never content.
   */
  refusedEvents?: string[];
  /**
   * What to answer the platform once every event is durably queued. Defaults
   * to 200 `{"ok":true}`; WeChat wants an empty body, for instance.
   */
  response?: { status?: number; contentType?: string; body: string };
}

/** A text reply an agent wants delivered to a buyer. */
export interface OutboundReply {
  replyId: string;
  conversationId: string;
  shopId: string;
  buyerId: string;
  text: string;
  /** The replyContext of the buyer's latest message, if any. */
  replyContext?: Record<string, string>;
  /** When the buyer last wrote (ms), for reply windows. */
  lastBuyerMessageAt?: number;
  /** Replies already sent since the buyer's last message (WeChat allows 5; a LINE reply token is single-use). */
  repliesSinceLastBuyerMessage: number;
  /** When the buyer last asked for service without writing (menu click, postback), and replies since. */
  openedAt?: number;
  repliesSinceOpen?: number;
  now: number;
}

export type SendResult =
  | { ok: true; platformMessageId?: string }
  /** `retryable: false` ends the reply as failed with `error` shown to the agent. */
  | { ok: false; retryable: boolean; error: string; status?: number };

export interface PlatformAdapter<Credentials = Record<string, unknown>> {
  readonly platform: PlatformName;
  /** Validates `credentials` on shop save; errors name the missing field. */
  readonly credentialsSchema: z.ZodType<Credentials>;
  /**
   * Credential fields that hold a URL the tenant chose and Seatmate will call
   * (the generic reply URL): checked against the outbound policy when the shop
   * is saved, and again at every send.
   */
  readonly outboundUrlFields?: readonly string[];
  /** Throws AppError 401 when the delivery is not authentic or is stale. */
  verify(request: InboundRequest, credentials: Credentials): void;
  /**
   * For a signature that does not cover the body (WeChat plain mode): the
   * signed query's identity and a hash of the body, only when the query's
   * signature is the shop's own (undefined otherwise). Ingest remembers it for
   * the timestamp window, before `verify` (so a delivery refused for what it
   * carries still uses its query up), and refuses the same signed query with
   * another body.
   */
  replayFingerprint?(
    request: InboundRequest,
    credentials: Credentials,
  ): { signedQuery: string; body: string; ttlSeconds: number } | undefined;
  /** Throws AppError 400 naming the field when the payload is malformed. */
  parse(request: InboundRequest, credentials: Credentials): ParsedDelivery;
  /** GET handshake; throws AppError 401/403 when the token is wrong. */
  handshake?(
    request: InboundRequest,
    credentials: Credentials,
  ): { contentType: string; body: string };
  send?(reply: OutboundReply, credentials: Credentials, http: PlatformHttp): Promise<SendResult>;
  /**
   * Starts the download of a buyer's media through the shop's own token
   * (platform lookups included) and answers the platform's response with its
   * body unread; the media proxy checks size and type. Throws AppError
   * media_not_found / media_unavailable when the platform refuses.
   */
  fetchMedia?(
    media: MessageMedia & { ref: string },
    credentials: Credentials,
    http: PlatformHttp,
    signal: AbortSignal,
  ): Promise<Response>;
}

/** Outbound HTTP and configuration an adapter's send may use. */
export interface PlatformHttp {
  fetch: typeof fetch;
  /** Development stand-in hosts (OUTBOUND_DEV_HOSTS): exempt from the media CDN host lists. */
  isDevHost?: (hostname: string) => boolean;
  apiBase: {
    metaGraph: string;
    line: string;
    /** LINE's content host (api-data.line.me); absent means that default. */
    lineData?: string;
    wechat: string;
    telegram: string;
  };
  /** The storefront widget's delivery: an agent reply for a buyer's open widgets (web platform). */
  widgetMailbox?: {
    post(
      shopId: string,
      buyerId: string,
      message: { id: string; text: string; at: string },
    ): Promise<void>;
  };
  /** Shared, cross-worker cache for fetched access tokens (WeChat). */
  tokenCache: {
    get(key: string): Promise<string | null>;
    set(key: string, value: string, ttlSeconds: number): Promise<void>;
    /** Runs `fetcher` under a short lock so only one worker refreshes. */
    withLock<T>(key: string, fetcher: () => Promise<T>): Promise<T>;
  };
}
