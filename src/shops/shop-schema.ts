import { z } from 'zod';
import { planSchema } from '../billing/plan-schema';
import { PLATFORMS } from '../platforms/contract';
import { canonicalTimeZone, isTimeZone } from '../shared/shop-calendar';

export const catalogSchema = z
  .object({
    products: z
      .array(
        z.object({
          id: z.string().min(1),
          name: z.string().min(1),
          /** Option name (colour, size, style...) to its real values. */
          options: z.record(z.string(), z.array(z.string().min(1))).default({}),
          deliveryDays: z.array(z.string().min(1)).optional(),
        }),
      )
      .max(500),
  })
  .strict();

export const settingsSchema = z
  .object({
    busyNudge: z.boolean().default(false),
    slowReplySeconds: z.number().int().positive().default(100),
    /**
     * Reply locale for buyer messages with no script of their own ("？", "ok", an order id);
     * without it, the shop's time zone decides (Taipei, Hong Kong, Macau: Traditional).
     */
    locale: z.enum(['zh-Hans', 'zh-Hant', 'en']).optional(),
    /** The shop's own domains: the only ones a suggested reply may link to (none by default). */
    linkDomains: z
      .array(
        z
          .string()
          .toLowerCase()
          .regex(
            /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$/,
            'must be a domain name',
          ),
      )
      .max(20)
      .optional(),
    /** The storefront widget's look (web platform): a greeting and the launcher colour. */
    widget: z
      .object({
        greeting: z.string().trim().min(1).max(300).optional(),
        color: z
          .string()
          .regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour such as #0f766e')
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Marketplaces a generic-platform shop may be bridged from: the badge agents see. */
export const CHANNELS = [
  'taobao',
  'tmall',
  'jd',
  'pinduoduo',
  'douyin',
  'shopify',
  'web',
  'other',
] as const;
export type Channel = (typeof CHANNELS)[number];

const channelSchema = z.enum(CHANNELS, {
  message: `must be one of ${CHANNELS.join(', ')}`,
});

/** The badge: a generic shop's stated marketplace (web unless stated), else its platform. */
export function channelOf(shop: { platform: string; channel?: string }): string {
  if (shop.platform === 'generic') return shop.channel ?? 'web';
  return shop.platform;
}

export const timeZoneSchema = z
  .string()
  .refine(isTimeZone, { message: 'must be an IANA time zone such as Asia/Shanghai' })
  .transform(canonicalTimeZone);

export const createShopSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    platform: z.enum(PLATFORMS),
    /** Generic shops only: the marketplace the shop's bridge carries (badge in the console). */
    channel: channelSchema.optional(),
    timezone: timeZoneSchema.default('Asia/Shanghai'),
    credentials: z.record(z.string(), z.unknown()).optional(),
    plan: planSchema.optional(),
    catalog: catalogSchema.optional(),
    settings: settingsSchema.optional(),
  })
  .strict();

export const updateShopSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    channel: channelSchema.optional(),
    timezone: timeZoneSchema.optional(),
    credentials: z.record(z.string(), z.unknown()).optional(),
    plan: planSchema.optional(),
    catalog: catalogSchema.optional(),
    settings: settingsSchema.partial().optional(),
  })
  .strict();

export type Catalog = z.infer<typeof catalogSchema>;
export type ShopSettings = z.infer<typeof settingsSchema>;
export type CreateShopInput = z.infer<typeof createShopSchema>;
export type UpdateShopInput = z.infer<typeof updateShopSchema>;
