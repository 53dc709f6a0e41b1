import { notFound } from '../shared/errors';
import type { PlatformAdapter, PlatformName } from './contract';
import { genericAdapter } from './generic';
import { lineAdapter } from './line';
import { messengerAdapter } from './messenger';
import { telegramAdapter } from './telegram';
import { webAdapter } from './web';
import { wechatAdapter } from './wechat';
import { whatsappAdapter } from './whatsapp';

/** Every adapter by platform name; the HTTP layer and the sender look them up here. */
// Adapters differ in their credential types; the registry hands them out by name only.
// biome-ignore lint/suspicious/noExplicitAny: each adapter's credentials type is its own
type AnyAdapter = PlatformAdapter<any>;

export class PlatformRegistry {
  private readonly adapters = new Map<PlatformName, AnyAdapter>();

  constructor(adapters: AnyAdapter[]) {
    for (const adapter of adapters) this.adapters.set(adapter.platform, adapter);
  }

  get(platform: PlatformName): PlatformAdapter<Record<string, unknown>> {
    const adapter = this.adapters.get(platform);
    if (!adapter) throw notFound(`Platform ${platform}`);
    return adapter;
  }

  has(platform: string): platform is PlatformName {
    return this.adapters.has(platform as PlatformName);
  }
}

export function defaultPlatforms(): PlatformRegistry {
  return new PlatformRegistry([
    genericAdapter,
    whatsappAdapter,
    messengerAdapter,
    lineAdapter,
    wechatAdapter,
    telegramAdapter,
    webAdapter,
  ]);
}
