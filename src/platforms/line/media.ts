import { mediaUnavailable } from '../../shared/errors';
import type { MessageMedia, PlatformHttp } from '../contract';
import { discard, hostOf, mediaGet, refuseUpstream } from '../media-download';
import type { LineCredentials } from './credentials';

/** LINE's default content host (the @line/bot-sdk blob client's base URL). */
export const LINE_DATA_API_BASE = 'https://api-data.line.me';

/**
 * Images, video, audio and files a user sent: `GET /v2/bot/message/{id}/content`
 * on LINE's data host with the channel access token. Video and audio may still
 * be in preparation (202): the agent is told to try again shortly.
 */
export async function fetchLineMedia(
  media: MessageMedia & { ref: string },
  credentials: LineCredentials,
  http: PlatformHttp,
  signal: AbortSignal,
): Promise<Response> {
  const base = http.apiBase.lineData ?? LINE_DATA_API_BASE;
  const response = await mediaGet(
    http,
    `${base}/v2/bot/message/${encodeURIComponent(media.ref)}/content`,
    {
      platform: 'LINE',
      hosts: [hostOf(base)],
      headers: { authorization: `Bearer ${credentials.channelAccessToken}` },
      signal,
    },
  );
  if (response.status === 202) {
    await discard(response);
    throw mediaUnavailable('LINE is still preparing this file; try again in a moment.');
  }
  if (!response.ok) return refuseUpstream('LINE', response);
  return response;
}
