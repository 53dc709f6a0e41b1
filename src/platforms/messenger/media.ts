import type { MessageMedia, PlatformHttp } from '../contract';
import { META_MEDIA_HOSTS, mediaGet, refuseUpstream } from '../media-download';

/**
 * A Messenger attachment's `payload.url` is a signed address on Meta's CDN:
 * fetched as it is, without the Page token, and only on Meta's media hosts.
 */
export async function fetchMessengerMedia(
  media: MessageMedia & { ref: string },
  _credentials: unknown,
  http: PlatformHttp,
  signal: AbortSignal,
): Promise<Response> {
  const response = await mediaGet(http, media.ref, {
    platform: 'Messenger',
    hosts: META_MEDIA_HOSTS,
    signal,
    redirects: 2,
  });
  if (!response.ok) return refuseUpstream('Messenger', response);
  return response;
}
