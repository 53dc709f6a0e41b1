import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ConversationStore } from '../conversations/conversation-store';
import type { WebhookIngest } from '../pipeline/webhook-ingest';
import type { MessageEvent } from '../platforms/contract';
import type { WebCredentials } from '../platforms/web';
import type { Clock } from '../shared/clock';
import { AppError } from '../shared/errors';
import { takeFromWindow } from '../shared/rate-window';
import type { RedisConnection, RedisKeys } from '../shared/redis';
import type { Shop, ShopRegistry } from '../shops/shop-registry';
import type { WidgetSession, WidgetSessionTokens } from './session-token';

/** How long a session token is good for; the widget renews it on every page load. */
const SESSION_TTL_MS = 24 * 3600_000;
/** A returning browser keeps its buyer id when its last token expired less than this long ago. */
const RETURNING_BUYER_MS = 90 * 86_400_000;

/** Abuse limits: a flood gets 429s with Retry-After, never an outage. */
export const WIDGET_LIMITS = {
  /** Messages per buyer per minute: a person types far fewer. */
  messagesPerBuyer: 20,
  /** Widget requests (sessions, messages, history) per client IP per minute. */
  requestsPerIp: 120,
  /** New sessions per client IP per minute: a storefront page load makes one. */
  sessionsPerIp: 30,
  /** Open live streams per buyer per API process (a few tabs). */
  streamsPerBuyer: 3,
  /** Open live streams per API process. */
  streamsPerProcess: 5000,
} as const;

export const widgetMessageSchema = z
  .object({
    text: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(2000, 'must be at most 2000 characters'),
    /** The widget's own id for the message, so a retried send is queued once. */
    clientMessageId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8–64 letters, digits, _ or -')
      .optional(),
  })
  .strict();

export const widgetContextSchema = z
  .object({
    productId: z.string().trim().max(100).optional(),
    productName: z.string().trim().max(200).optional(),
    url: z
      .string()
      .max(1000)
      .refine((value) => /^https?:\/\//i.test(value) && URL.canParse(value), {
        message: 'must be an http(s) URL',
      })
      .optional(),
  })
  .strict();

export const widgetSessionSchema = z.object({ token: z.string().max(2048).optional() }).strict();

export type WidgetMessageInput = z.infer<typeof widgetMessageSchema>;
export type WidgetContext = z.infer<typeof widgetContextSchema>;

export interface WidgetMessage {
  id: string;
  from: 'buyer' | 'agent';
  text: string;
  at: string;
}

interface WidgetShop {
  shop: Shop;
  allowedOrigins: string[];
}

/**
 * The storefront widget's use cases: sessions for anonymous buyers, their
 * messages into the same pipeline as every platform's, their history, and the
 * page they are looking at. Tenancy: every call is bound to one shop (the
 * widget key), one buyer and one origin by the session token.
 */
export class WidgetService {
  constructor(
    private readonly deps: {
      redis: RedisConnection;
      keys: RedisKeys;
      shops: ShopRegistry;
      conversations: ConversationStore;
      ingest: WebhookIngest;
      tokens: WidgetSessionTokens;
      clock: Clock;
      /** Agents of the shop who can answer now. */
      agentsAvailable: (shopId: string) => Promise<number>;
    },
  ) {}

  /** The shop behind a widget key, or the same 404 for an unknown key and a non-web shop. */
  async shopOf(widgetKey: string): Promise<WidgetShop> {
    const shopId = /^wgt_[A-Za-z0-9_-]{8,64}$/.test(widgetKey)
      ? await this.deps.redis.get(this.deps.keys.widget(widgetKey))
      : null;
    const loaded = shopId ? await this.deps.shops.getWithCredentials(shopId) : null;
    if (loaded?.shop.platform !== 'web' || loaded.shop.widgetKey !== widgetKey)
      throw new AppError(404, 'not_found', 'No shop uses this widget key; check the snippet.');
    return {
      shop: loaded.shop,
      allowedOrigins: (loaded.credentials as WebCredentials).allowedOrigins ?? [],
    };
  }

  /** Refuses any origin the shop has not listed (403), for the CORS answer and every call. */
  allows(widget: WidgetShop, origin: string | undefined): origin is string {
    return origin !== undefined && widget.allowedOrigins.includes(origin);
  }

  requireOrigin(widget: WidgetShop, origin: string | undefined): string {
    if (this.allows(widget, origin)) return origin;
    throw new AppError(
      403,
      'origin_not_allowed',
      `This widget may only be used from the shop's own site; ${origin ? `origin ${origin} is` : 'a request without an Origin header is'} not on its list of allowed origins.`,
    );
  }

  async countRequest(ip: string): Promise<void> {
    await takeFromWindow(
      this.deps.redis,
      this.deps.keys.widgetIpRate(ip),
      WIDGET_LIMITS.requestsPerIp,
      60_000,
      'Too many chat requests from this network; wait a moment.',
    );
  }

  async startSession(
    widget: WidgetShop,
    origin: string,
    ip: string,
    previousToken: string | undefined,
  ) {
    await takeFromWindow(
      this.deps.redis,
      this.deps.keys.widgetSessionRate(ip),
      WIDGET_LIMITS.sessionsPerIp,
      60_000,
      'Too many new chat sessions from this network; wait a moment.',
    );
    const now = this.deps.clock.now();
    const previous = previousToken ? this.deps.tokens.read(previousToken) : null;
    const returning =
      previous &&
      previous.shopId === widget.shop.id &&
      previous.origin === origin &&
      previous.expiresAt + RETURNING_BUYER_MS > now;
    const buyerId = returning ? previous.buyerId : `web_${randomBytes(12).toString('base64url')}`;
    const session: WidgetSession = {
      shopId: widget.shop.id,
      buyerId,
      origin,
      expiresAt: now + SESSION_TTL_MS,
    };
    const { widget: look } = widget.shop.settings;
    return {
      token: this.deps.tokens.issue(session),
      buyerId,
      expiresAt: new Date(session.expiresAt).toISOString(),
      shop: {
        name: widget.shop.name,
        greeting: look?.greeting ?? null,
        color: look?.color ?? null,
      },
      agentsAvailable: (await this.deps.agentsAvailable(widget.shop.id)) > 0,
    };
  }

  /** The session behind a bearer token, checked against the widget key and the origin. */
  authenticate(widget: WidgetShop, origin: string, authorization: string): WidgetSession {
    const token = authorization.replace(/^Bearer\s+/i, '');
    const session = token ? this.deps.tokens.read(token) : null;
    if (!session || session.shopId !== widget.shop.id || session.origin !== origin)
      throw new AppError(401, 'invalid_session', 'The chat session is not valid; reload the page.');
    if (session.expiresAt <= this.deps.clock.now())
      throw new AppError(401, 'session_expired', 'The chat session has expired; reload the page.');
    return session;
  }

  /**
   * Does an authenticated session still hold? A live stream outlives the request that
   * checked it: since then the shop may have removed the origin (or the key may name no
   * web shop), and the token may have expired. Any failure to tell counts as no: the
   * stream ends, and the widget reconnects and reads the history, so nothing is lost.
   */
  async stillHolds(widgetKey: string, session: WidgetSession): Promise<boolean> {
    if (session.expiresAt <= this.deps.clock.now()) return false;
    try {
      const widget = await this.shopOf(widgetKey);
      return widget.shop.id === session.shopId && this.allows(widget, session.origin);
    } catch {
      return false;
    }
  }

  async send(session: WidgetSession, input: WidgetMessageInput) {
    await takeFromWindow(
      this.deps.redis,
      this.deps.keys.widgetBuyerRate(session.shopId, session.buyerId),
      WIDGET_LIMITS.messagesPerBuyer,
      60_000,
      `More than ${WIDGET_LIMITS.messagesPerBuyer} messages a minute; wait a moment.`,
    );
    const now = this.deps.clock.now();
    const id = `wm_${input.clientMessageId ?? randomBytes(12).toString('base64url')}`;
    const event: MessageEvent = {
      kind: 'message',
      eventId: id,
      messageId: id,
      buyer: { id: session.buyerId },
      from: 'buyer',
      text: input.text,
      sentAt: new Date(now).toISOString(),
    };
    const { queued } = await this.deps.ingest.enqueue('web', session.shopId, [event], now);
    return { id, at: event.sentAt, duplicate: queued === 0 };
  }

  async history(session: WidgetSession): Promise<WidgetMessage[]> {
    const messages = await this.deps.conversations.history(session.shopId, session.buyerId, 100);
    // The agent's name stays inside the desk: the buyer sees the shop.
    return messages.map((m) => ({
      id: m.id,
      from: m.from,
      text: m.text,
      at: new Date(m.at).toISOString(),
    }));
  }

  async setContext(session: WidgetSession, context: WidgetContext): Promise<void> {
    await this.deps.conversations.setMeta(session.shopId, session.buyerId, {
      pageContext: JSON.stringify({
        ...context,
        at: new Date(this.deps.clock.now()).toISOString(),
      }),
    });
  }
}
