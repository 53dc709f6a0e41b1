import { mediaNotFound, mediaUnavailable } from '../../shared/errors';
import type { MessageMedia, PlatformHttp } from '../contract';
import { hostOf, META_MEDIA_HOSTS, mediaGet, readLookup, refuseUpstream } from '../media-download';
import { readField } from '../send-result';
import type { WhatsappCredentials } from './credentials';

/**
 * The agent whatsapp-api-js sends for media downloads: Meta's CDN answers some
 * clients' default agents with an HTML page instead of the file (UNCONFIRMED
 * in Meta's docs; see docs/platforms.md).
 */
const DOWNLOAD_USER_AGENT =
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/**
 * Cloud API media: `GET /{media-id}` (the Graph base and version the sender
 * uses) answers `{url, mime_type, file_size...}`; that URL, on Meta's CDN, is
 * fetched with the same bearer token. Webhook media ids live 7 days, the URL
 * minutes, so the URL is asked for on every fetch.
 */
export async function fetchWhatsappMedia(
  media: MessageMedia & { ref: string },
  credentials: WhatsappCredentials,
  http: PlatformHttp,
  signal: AbortSignal,
): Promise<Response> {
  const platform = 'WhatsApp';
  const graph = hostOf(http.apiBase.metaGraph);
  const headers = { authorization: `Bearer ${credentials.accessToken}` };
  const lookup = await mediaGet(
    http,
    `${http.apiBase.metaGraph}/${encodeURIComponent(media.ref)}`,
    { platform, hosts: [graph], headers, signal },
  );
  if (!lookup.ok) {
    // Graph's "object does not exist" (code 100, subcode 33): the id expired (7 days) or was never this number's.
    const answer = await readLookup(platform, lookup).catch(() => undefined);
    if (readField(answer, ['error', 'code']) === '100')
      throw mediaNotFound('WhatsApp no longer has this file (media ids expire after 7 days).');
    throw mediaUnavailable(`WhatsApp answered HTTP ${lookup.status}.`);
  }
  const url = readField(await readLookup(platform, lookup), ['url']);
  if (!url) throw mediaUnavailable('WhatsApp gave no download address for this file.');
  const response = await mediaGet(http, url, {
    platform,
    hosts: [...META_MEDIA_HOSTS, graph],
    headers: { ...headers, 'user-agent': DOWNLOAD_USER_AGENT },
    signal,
    redirects: 2,
  });
  if (!response.ok) return refuseUpstream(platform, response);
  return response;
}
