import { AppError, mediaNotFound, mediaUnavailable } from '../../shared/errors';
import type { MessageMedia, PlatformHttp } from '../contract';
import { bareType, hostOf, mediaGet, readLookup, refuseUpstream } from '../media-download';
import { readField } from '../send-result';
import type { WechatCredentials } from './credentials';
import { accessToken, refreshToken, TOKEN_ERRCODES, TokenFetchError } from './send';

/** Where WeChat serves a video's download address (video_url); UNCONFIRMED, see docs/platforms.md. */
const WECHAT_VIDEO_HOSTS = ['.qq.com', '.qpic.cn', '.weixin.qq.com'];
/** errcode 40007: invalid media_id (temporary media live 3 days). */
const GONE_ERRCODES = new Set(['40007']);

/**
 * Temporary media (获取临时素材): `GET /cgi-bin/media/get?access_token&media_id`
 * with the access token the sender shares. Success is the file itself; a JSON
 * body is an error (`errcode`), or for a video its download address
 * (`video_url`). A refused token is refreshed once, as the sender does.
 */
export async function fetchWechatMedia(
  media: MessageMedia & { ref: string },
  credentials: WechatCredentials,
  http: PlatformHttp,
  signal: AbortSignal,
): Promise<Response> {
  const platform = 'WeChat';
  const hosts = [hostOf(http.apiBase.wechat)];
  try {
    let token = await accessToken(credentials, http);
    for (let attempt = 0; ; attempt += 1) {
      const response = await mediaGet(
        http,
        `${http.apiBase.wechat}/cgi-bin/media/get?access_token=${encodeURIComponent(token)}&media_id=${encodeURIComponent(media.ref)}`,
        { platform, hosts, signal },
      );
      if (!response.ok) return refuseUpstream(platform, response);
      const type = bareType(response.headers.get('content-type'));
      if (type !== 'application/json' && type !== 'text/plain') return response;
      const answer = await readLookup(platform, response);
      const videoUrl = readField(answer, ['video_url']);
      if (videoUrl) {
        const video = await mediaGet(http, videoUrl, {
          platform,
          hosts: [...WECHAT_VIDEO_HOSTS, ...hosts],
          signal,
          redirects: 2,
        });
        if (!video.ok) return refuseUpstream(platform, video);
        return video;
      }
      const errcode = readField(answer, ['errcode']) ?? 'unknown';
      if (TOKEN_ERRCODES.has(errcode) && attempt === 0) {
        token = await refreshToken(credentials, http, token);
        continue;
      }
      if (GONE_ERRCODES.has(errcode))
        throw mediaNotFound('WeChat no longer has this file (temporary media live 3 days).');
      throw mediaUnavailable(`WeChat refused the file (errcode ${errcode}).`);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof TokenFetchError) throw mediaUnavailable(error.message);
    throw error;
  }
}
