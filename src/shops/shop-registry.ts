import { randomBytes } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { Plan } from '../billing/plan-schema';
import { storedPlanSchema } from '../billing/plan-schema';
import type { PlatformName } from '../platforms/contract';
import { OutboundPolicy, OutboundRefused } from '../platforms/outbound-guard';
import type { PlatformRegistry } from '../platforms/registry';
import type { Clock } from '../shared/clock';
import { AppError, notFound } from '../shared/errors';
import { inSteps, type RedisConnection, type RedisKeys, scanKeys } from '../shared/redis';
import type { SecretBox } from '../shared/secret-box';
import { monthOf, nextMonth } from '../shared/shop-calendar';
import { hashToken, newToken } from '../shared/tokens';
import {
  type Catalog,
  type Channel,
  type CreateShopInput,
  catalogSchema,
  type ShopSettings,
  settingsSchema,
  type UpdateShopInput,
} from './shop-schema';

export interface Shop {
  id: string;
  name: string;
  platform: PlatformName;
  /** Generic shops: the marketplace bridged (taobao, jd...); see channelOf. */
  channel?: Channel;
  timezone: string;
  plan?: Plan;
  /** Plans that took effect from a given month on: a change applies from the next month. */
  planHistory: Array<{ fromMonth: string; plan: Plan }>;
  catalog?: Catalog;
  settings: ShopSettings;
  createdAt: string;
  /** Web platform: the public key that names the shop in its storefront snippet (not a secret). */
  widgetKey?: string;
}

/** Decrypted platform credentials; only adapters and the outbound sender see them. */
export type Credentials = Record<string, unknown>;

export interface CreatedShop extends Shop {
  ownerKey: string;
  webhookSecret?: string;
}

const FIELDS = [
  'channel',
  'name',
  'platform',
  'timezone',
  'plan',
  'planHistory',
  'catalog',
  'settings',
  'createdAt',
  'credentials',
  'widgetKey',
] as const;

/**
 * How long a process reuses a shop it has read. Webhook ingest reads the shop
 * on every delivery; a PATCH is seen at once by the process that made it and
 * within this many ms by the others.
 */
export const SHOP_CACHE_MS = 5000;

export type ShopCache = Map<
  string,
  { at: number; value: { shop: Shop; credentials: Credentials } }
>;

/** `whsec_` + base64 of 32 random bytes: the Standard Webhooks form, above the 24-byte floor. */
function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Shops live in one Redis hash each; credentials are sealed with the SecretBox. */
export class ShopRegistry {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly box: SecretBox,
    private readonly platforms: PlatformRegistry,
    private readonly clock: Clock,
    /** Shared by every registry of one process (API and workers), so a PATCH is seen by both at once. */
    private readonly cache: ShopCache = new Map(),
    /** Where tenant-chosen URLs may point (https, public addresses). */
    private readonly outbound: OutboundPolicy = new OutboundPolicy(),
  ) {}

  async create(input: CreateShopInput): Promise<CreatedShop> {
    const id = `shp_${randomBytes(9).toString('base64url')}`;
    const ownerKey = newToken('own');
    const credentials: Credentials = { ...(input.credentials ?? {}) };
    let webhookSecret: string | undefined;
    if (input.platform === 'generic') {
      webhookSecret = newWebhookSecret();
      credentials.webhookSecret = webhookSecret;
    }
    this.validateCredentials(input.platform, credentials);
    checkChannel(input.platform, input.channel);
    const shop: Shop = {
      id,
      name: input.name,
      platform: input.platform,
      ...(input.channel ? { channel: input.channel } : {}),
      timezone: input.timezone,
      plan: input.plan,
      planHistory: input.plan ? [{ fromMonth: '0000-01', plan: input.plan }] : [],
      catalog: input.catalog,
      settings: settingsSchema.parse(input.settings ?? {}),
      createdAt: new Date(this.clock.now()).toISOString(),
    };
    if (input.platform === 'web') shop.widgetKey = `wgt_${randomBytes(16).toString('base64url')}`;
    // The record first, then what points to it (widget key, owner token), the index last:
    // stopped halfway, nothing refers to a shop that is not there (see `inSteps`).
    await inSteps(this.redis, [
      (tx) =>
        tx.hset(this.keys.shopRecord(id), {
          ...this.serialize(shop, credentials),
          ownerKeyHash: hashToken(ownerKey),
        }),
      (tx) => shop.widgetKey && tx.set(this.keys.widget(shop.widgetKey), id),
      (tx) =>
        tx.set(this.keys.token(hashToken(ownerKey)), JSON.stringify({ kind: 'owner', shopId: id })),
      (tx) => tx.sadd(this.keys.allShops(), id),
    ]);
    return { ...shop, ownerKey, webhookSecret };
  }

  async get(id: string): Promise<Shop | null> {
    const loaded = await this.load(id);
    return loaded?.shop ?? null;
  }

  async require(id: string): Promise<Shop> {
    const shop = await this.get(id);
    if (!shop) throw notFound('Shop');
    return shop;
  }

  /**
   * The shop from the short in-process cache (as ingest sees it): for the
   * per-message work of the workers, where reading and parsing the shop's
   * record for every job would cost a Redis read and its JSON each time.
   */
  async getCached(id: string): Promise<Shop | null> {
    return (await this.getWithCredentials(id))?.shop ?? null;
  }

  /** The shop and its decrypted credentials, for adapters; served from a short cache. */
  async getWithCredentials(id: string): Promise<{ shop: Shop; credentials: Credentials } | null> {
    const now = this.clock.now();
    const cached = this.cache.get(id);
    if (cached && now - cached.at >= 0 && now - cached.at < SHOP_CACHE_MS) return cached.value;
    const loaded = await this.load(id);
    if (loaded) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(id, { at: now, value: loaded });
    }
    return loaded;
  }

  async update(id: string, patch: UpdateShopInput): Promise<Shop> {
    const loaded = await this.load(id);
    if (!loaded) throw notFound('Shop');
    const { shop } = loaded;
    let credentials = loaded.credentials;
    if (patch.credentials) {
      // Merge so a PATCH can change one field; the generated generic secret survives.
      // The rotation grace is Seatmate's own bookkeeping, never set from outside.
      const { previousWebhookSecret, previousWebhookSecretUntil, ...given } = patch.credentials;
      credentials = { ...credentials, ...given };
      this.validateCredentials(shop.platform, credentials);
    }
    checkChannel(shop.platform, patch.channel);
    const next: Shop = {
      ...shop,
      name: patch.name ?? shop.name,
      ...(patch.channel ? { channel: patch.channel } : {}),
      timezone: patch.timezone ?? shop.timezone,
      catalog: patch.catalog ?? shop.catalog,
      settings: patch.settings
        ? settingsSchema.parse({ ...shop.settings, ...patch.settings })
        : shop.settings,
    };
    if (patch.plan) {
      // A plan change takes effect from next month; the current month keeps its plan.
      const from = nextMonth(monthOf(this.clock.now(), next.timezone));
      next.planHistory = [
        ...shop.planHistory.filter((p) => p.fromMonth < from),
        { fromMonth: from, plan: patch.plan },
      ];
      if (shop.planHistory.length === 0)
        next.planHistory = [{ fromMonth: '0000-01', plan: patch.plan }];
      next.plan = patch.plan;
    }
    await this.redis.hset(this.keys.shopRecord(id), this.serialize(next, credentials));
    this.cache.delete(id);
    return next;
  }

  /**
   * A new owner key for the shop; the old one is refused from the next
   * request on (both swapped in one MULTI). Shown once, stored as its hash.
   */
  async reissueOwnerKey(id: string): Promise<string> {
    await this.require(id);
    const shopKey = this.keys.shopRecord(id);
    const oldHashes = await this.ownerKeyHashes(id);
    const ownerKey = newToken('own');
    const hash = hashToken(ownerKey);
    // The new token, then the record names it, then the old tokens go: stopped halfway, the
    // old key still works (never neither), and a new call retires whatever the record does not name.
    await inSteps(this.redis, [
      (tx) => tx.set(this.keys.token(hash), JSON.stringify({ kind: 'owner', shopId: id })),
      (tx) => tx.hset(shopKey, 'ownerKeyHash', hash),
      ...oldHashes.map((old) => (tx: ChainableCommander) => tx.del(this.keys.token(old))),
    ]);
    return ownerKey;
  }

  /**
   * A new webhook secret for a generic shop. The previous one keeps verifying
   * for `graceMs` (the sender switches over later) unless `revokePrevious`.
   */
  async rotateWebhookSecret(
    id: string,
    options: { revokePrevious: boolean; graceMs: number },
  ): Promise<{ webhookSecret: string; previousValidUntil: string | null }> {
    const loaded = await this.load(id);
    if (!loaded) throw notFound('Shop');
    if (loaded.shop.platform !== 'generic')
      throw new AppError(
        409,
        'not_generic',
        `Only generic shops have a webhook secret Seatmate issues; a ${loaded.shop.platform} shop's secrets come from the platform: set them with PATCH /v1/shops/${id} credentials.`,
      );
    const webhookSecret = newWebhookSecret();
    const { previousWebhookSecret, previousWebhookSecretUntil, ...rest } = loaded.credentials;
    const until = this.clock.now() + options.graceMs;
    const keepPrevious = !options.revokePrevious && options.graceMs > 0;
    const credentials: Credentials = {
      ...rest,
      webhookSecret,
      ...(keepPrevious
        ? { previousWebhookSecret: rest.webhookSecret, previousWebhookSecretUntil: until }
        : {}),
    };
    this.validateCredentials('generic', credentials);
    await this.redis.hset(
      this.keys.shopRecord(id),
      'credentials',
      this.box.seal(JSON.stringify(credentials)),
    );
    this.cache.delete(id);
    return {
      webhookSecret,
      previousValidUntil: keepPrevious ? new Date(until).toISOString() : null,
    };
  }

  /** The owner key's hash; shops created before it was kept are found in the token index once. */
  private async ownerKeyHashes(id: string): Promise<string[]> {
    const stored = await this.redis.hget(this.keys.shopRecord(id), 'ownerKeyHash');
    if (stored) return [stored];
    const found: string[] = [];
    const prefix = this.keys.token('');
    // Token keys are spread over slots: one GET each (batched into one write), not an MGET.
    const tokens = await scanKeys(this.redis, `${prefix}*`);
    const values = await Promise.all(tokens.map((key) => this.redis.get(key)));
    tokens.forEach((key, i) => {
      const record = values[i]
        ? (JSON.parse(values[i]!) as { kind?: string; shopId?: string })
        : null;
      if (record?.kind === 'owner' && record.shopId === id) found.push(key.slice(prefix.length));
    });
    return found;
  }

  /** The plan in force for a month. */
  planFor(shop: Shop, month: string): Plan | undefined {
    let chosen: Plan | undefined;
    for (const entry of shop.planHistory) if (entry.fromMonth <= month) chosen = entry.plan;
    return chosen;
  }

  async listIds(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.allShops())).sort();
  }

  private validateCredentials(platform: PlatformName, credentials: Credentials): void {
    const adapter = this.platforms.get(platform);
    for (const field of adapter.outboundUrlFields ?? []) {
      const value = credentials[field];
      if (typeof value !== 'string') continue;
      try {
        this.outbound.checkStatic(value);
      } catch (error) {
        if (!(error instanceof OutboundRefused)) throw error;
        throw new AppError(400, 'invalid_credentials', `credentials.${field}: ${error.message}`, {
          details: { field: `credentials.${field}`, reason: error.code },
        });
      }
    }
    const parsed = adapter.credentialsSchema.safeParse(credentials);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = ['credentials', ...(issue?.path ?? [])].join('.');
      throw new AppError(400, 'invalid_credentials', `${field}: ${issue?.message ?? 'invalid'}`, {
        details: { field, platform },
      });
    }
  }

  private serialize(shop: Shop, credentials: Credentials): Record<string, string> {
    const out: Record<string, string> = {
      name: shop.name,
      platform: shop.platform,
      timezone: shop.timezone,
      planHistory: JSON.stringify(shop.planHistory),
      settings: JSON.stringify(shop.settings),
      createdAt: shop.createdAt,
      credentials: this.box.seal(JSON.stringify(credentials)),
    };
    if (shop.plan) out.plan = JSON.stringify(shop.plan);
    if (shop.channel) out.channel = shop.channel;
    if (shop.catalog) out.catalog = JSON.stringify(shop.catalog);
    if (shop.widgetKey) out.widgetKey = shop.widgetKey;
    return out;
  }

  /**
   * The parsed catalog, the same object while the stored catalog is unchanged: the assist
   * engine remembers what a catalog says about each text per catalog object, and a 500-product
   * catalog is not parsed again every time the shop cache refreshes.
   */
  private catalogOf(id: string, raw: string): Catalog {
    const known = this.catalogs.get(id);
    if (known?.raw === raw) return known.catalog;
    const catalog = catalogSchema.parse(JSON.parse(raw));
    if (this.catalogs.size >= 10_000) this.catalogs.clear();
    this.catalogs.set(id, { raw, catalog });
    return catalog;
  }

  private readonly catalogs = new Map<string, { raw: string; catalog: Catalog }>();

  private async load(id: string): Promise<{ shop: Shop; credentials: Credentials } | null> {
    const values = await this.redis.hmget(this.keys.shopRecord(id), ...FIELDS);
    const [
      channel,
      name,
      platform,
      timezone,
      plan,
      planHistory,
      catalog,
      settings,
      createdAt,
      sealed,
      widgetKey,
    ] = values;
    if (!name || !platform || !timezone || !createdAt || !sealed) return null;
    const shop: Shop = {
      id,
      name,
      platform: platform as PlatformName,
      ...(channel ? { channel: channel as Channel } : {}),
      timezone,
      plan: plan ? storedPlanSchema.parse(JSON.parse(plan)) : undefined,
      planHistory: planHistory ? JSON.parse(planHistory) : [],
      catalog: catalog ? this.catalogOf(id, catalog) : undefined,
      settings: settingsSchema.parse(settings ? JSON.parse(settings) : {}),
      createdAt,
      ...(widgetKey ? { widgetKey } : {}),
    };
    return { shop, credentials: JSON.parse(this.box.open(sealed)) as Credentials };
  }
}

/** Only a generic shop is bridged from a marketplace; every other platform is its own badge. */
function checkChannel(platform: PlatformName, channel: Channel | undefined): void {
  if (channel && platform !== 'generic')
    throw new AppError(
      400,
      'invalid_channel',
      `channel: only generic shops state a channel; a ${platform} shop shows its platform.`,
      { details: { field: 'channel', platform } },
    );
}
