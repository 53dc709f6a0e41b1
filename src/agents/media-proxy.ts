import { createHash } from 'node:crypto';
import type { ConversationStore } from '../conversations/conversation-store';
import type { MessageMedia, PlatformHttp, PlatformName } from '../platforms/contract';
import { bareType, discard, fetchFailure } from '../platforms/media-download';
import type { PlatformRegistry } from '../platforms/registry';
import type { Clock } from '../shared/clock';
import { mediaNotFound, mediaTooLarge, mediaTypeRefused, unavailable } from '../shared/errors';
import type { ShopRegistry } from '../shops/shop-registry';
import { type SignedInAgent, visibleConversation } from './workspace';

/** How long a browser and this process keep a fetched file (platform URLs and ids expire anyway). */
export const MEDIA_CACHE_SECONDS = 300;

/** What the console may be handed: pictures, sound, video and documents; nothing a browser runs. */
const SERVED_TYPES = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'video/mp4',
  'video/3gpp',
  'video/quicktime',
  'video/webm',
  'application/pdf',
  'application/msword',
  'application/vnd.ms-excel',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/zip',
  'text/plain',
]);
/** Any audio/* is sound only (WeChat voice is audio/amr, WhatsApp's audio/ogg, LINE's audio/m4a). */
const isServed = (type: string) =>
  SERVED_TYPES.has(type) || /^audio\/[a-z0-9][a-z0-9.+-]*$/.test(type);

/** Types a platform sends when it does not say (Telegram's file server, some CDNs). */
const UNSAID = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'application/pdf': 'pdf',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/amr': 'amr',
  'text/plain': 'txt',
};

/** A file ready to answer: its checked type, how the browser should treat it, and its tag. */
export interface ProxiedMedia {
  body: Buffer;
  contentType: string;
  disposition: string;
  etag: string;
}

/**
 * The same-origin media proxy: a buyer's image, voice, video or file, fetched
 * through the shop's own platform token for an agent who may see the
 * conversation. The message must be in that conversation and carry a platform
 * reference. Size is refused by Content-Length and cut off while reading;
 * the type must be on the served list; a small in-process cache spares the
 * platform repeated downloads of the same thumbnail.
 */
export class MediaProxy {
  private readonly cache = new Map<string, { media: ProxiedMedia; until: number }>();
  private cachedBytes = 0;
  private inFlight = 0;

  constructor(
    private readonly deps: {
      shops: ShopRegistry;
      conversations: ConversationStore;
      platforms: PlatformRegistry;
      http: PlatformHttp;
      clock: Clock;
      maxBytes: number;
      timeoutMs: number;
      cacheBytes: number;
      maxConcurrent: number;
    },
  ) {}

  async fetch(
    agent: SignedInAgent,
    conversationId: string,
    messageId: string,
  ): Promise<ProxiedMedia> {
    const { shopId, buyerId } = visibleConversation(agent, conversationId);
    const message = await this.deps.conversations.message(shopId, buyerId, messageId);
    if (!message) throw mediaNotFound('This conversation has no such message.');
    const media = message.media;
    if (!media?.ref)
      throw mediaNotFound(
        media ? `This ${media.kind} carries no file to fetch.` : 'This message carries no media.',
      );
    const key = JSON.stringify([shopId, buyerId, messageId]);
    const cached = this.cached(key);
    if (cached) return cached;

    const loaded = await this.deps.shops.getWithCredentials(shopId);
    if (!loaded) throw mediaNotFound('The shop no longer exists.');
    const adapter = this.deps.platforms.get(loaded.shop.platform as PlatformName);
    if (!adapter.fetchMedia)
      throw mediaNotFound(`Media on ${loaded.shop.platform} cannot be fetched.`);
    if (this.inFlight >= this.deps.maxConcurrent)
      throw unavailable('Too many files are being fetched at once; try again shortly.');
    this.inFlight += 1;
    const signal = AbortSignal.timeout(this.deps.timeoutMs);
    const platform = loaded.shop.platform;
    try {
      let response: Response;
      try {
        response = await adapter.fetchMedia(
          { ...media, ref: media.ref },
          loaded.credentials,
          this.deps.http,
          signal,
        );
      } catch (error) {
        throw fetchFailure(platform, error, signal);
      }
      const declared = bareType(response.headers.get('content-type'));
      if (!UNSAID.has(declared) && !isServed(declared)) {
        await discard(response);
        throw mediaTypeRefused(declared);
      }
      const length = Number(response.headers.get('content-length') ?? Number.NaN);
      if (length > this.deps.maxBytes) {
        await discard(response);
        throw mediaTooLarge(this.deps.maxBytes);
      }
      const body = await this.read(response, platform, signal);
      const contentType = UNSAID.has(declared) ? typeOfUnsaid(body, media) : declared;
      if (!isServed(contentType)) throw mediaTypeRefused(contentType || 'unknown');
      const proxied: ProxiedMedia = {
        body,
        contentType,
        disposition: dispositionOf(contentType, media, messageId),
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      };
      this.remember(key, proxied);
      return proxied;
    } finally {
      this.inFlight -= 1;
    }
  }

  /** The whole body, cut off the moment it passes the limit. */
  private async read(response: Response, platform: string, signal: AbortSignal): Promise<Buffer> {
    if (!response.body) return Buffer.alloc(0);
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > this.deps.maxBytes) throw mediaTooLarge(this.deps.maxBytes);
        chunks.push(value);
      }
    } catch (error) {
      await reader.cancel().catch(() => undefined);
      throw fetchFailure(platform, error, signal);
    }
    return Buffer.concat(chunks);
  }

  private cached(key: string): ProxiedMedia | null {
    const entry = this.cache.get(key);
    if (!entry) return null;
    this.cache.delete(key);
    if (entry.until <= this.deps.clock.now()) {
      this.cachedBytes -= entry.media.body.length;
      return null;
    }
    // Re-inserted: the Map's order is the least recently used first.
    this.cache.set(key, entry);
    return entry.media;
  }

  /** Files up to a quarter of the cache are kept; the least recently used go first. */
  private remember(key: string, media: ProxiedMedia): void {
    const size = media.body.length;
    if (size === 0 || size > this.deps.cacheBytes / 4) return;
    const old = this.cache.get(key);
    if (old) {
      this.cache.delete(key);
      this.cachedBytes -= old.media.body.length;
    }
    for (const [oldest, entry] of this.cache) {
      if (this.cachedBytes + size <= this.deps.cacheBytes) break;
      this.cache.delete(oldest);
      this.cachedBytes -= entry.media.body.length;
    }
    this.cache.set(key, { media, until: this.deps.clock.now() + MEDIA_CACHE_SECONDS * 1000 });
    this.cachedBytes += size;
  }
}

/**
 * When the platform does not say what a file is: its first bytes for the
 * common formats, else the type the webhook gave; never a guess at markup.
 */
export function typeOfUnsaid(body: Buffer, media: MessageMedia): string {
  const ascii = (start: number, end: number) => body.subarray(start, end).toString('latin1');
  if (body[0] === 0xff && body[1] === 0xd8 && body[2] === 0xff) return 'image/jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'image/gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (ascii(0, 5) === '%PDF-') return 'application/pdf';
  if (ascii(0, 4) === 'OggS') return 'audio/ogg';
  if (ascii(0, 6) === '#!AMR\n') return 'audio/amr';
  if (ascii(4, 8) === 'ftyp') return media.kind === 'audio' ? 'audio/mp4' : 'video/mp4';
  if (body[0] === 0x1a && body[1] === 0x45 && body[2] === 0xdf && body[3] === 0xa3)
    return media.kind === 'audio' ? 'audio/webm' : 'video/webm';
  return bareType(media.mimeType ?? null);
}

/** Pictures, sound and video open in place; anything else is a download. */
export function dispositionOf(type: string, media: MessageMedia, messageId: string): string {
  const inline = /^(image|audio|video)\//.test(type);
  const fallback = `${media.kind}-${messageId.replace(/[^\w-]+/g, '_').slice(-40)}${
    EXTENSIONS[type] ? `.${EXTENSIONS[type]}` : ''
  }`;
  // The buyer named the file: control characters and path separators never reach the header.
  const given = (media.fileName ?? '').replace(/[\p{Cc}/\\]+/gu, '_').slice(0, 150);
  const name = given || fallback;
  const ascii = name.replace(/[^\x20-\x7e]+/g, '_').replace(/["%;]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
