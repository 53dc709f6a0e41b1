import { mediaNotFound, mediaTooLarge, mediaUnavailable } from '../../shared/errors';
import type { MessageMedia, PlatformHttp } from '../contract';
import { hostOf, mediaGet, readLookup, refuseUpstream } from '../media-download';
import { readField } from '../send-result';
import type { TelegramCredentials } from './credentials';

/** The Bot API lets bots download files up to 20 MB through getFile. */
const BOT_DOWNLOAD_LIMIT = 20 * 1024 * 1024;

/**
 * `getFile(file_id)` answers a `file_path`, then the file is at
 * `/file/bot<token>/<file_path>` (valid at least an hour). Business messages
 * use the same bot token.
 */
export async function fetchTelegramMedia(
  media: MessageMedia & { ref: string },
  credentials: TelegramCredentials,
  http: PlatformHttp,
  signal: AbortSignal,
): Promise<Response> {
  const platform = 'Telegram';
  const base = http.apiBase.telegram;
  const hosts = [hostOf(base)];
  const lookup = await mediaGet(
    http,
    `${base}/bot${credentials.botToken}/getFile?file_id=${encodeURIComponent(media.ref)}`,
    { platform, hosts, signal },
  );
  const answer = await readLookup(platform, lookup);
  const filePath = readField(answer, ['result', 'file_path']);
  if (!lookup.ok || !filePath) {
    const description = (readField(answer, ['description']) ?? '').toLowerCase();
    if (description.includes('too big')) throw mediaTooLarge(BOT_DOWNLOAD_LIMIT);
    if (lookup.status === 400) throw mediaNotFound('Telegram no longer has this file.');
    throw mediaUnavailable(`Telegram answered HTTP ${lookup.status}.`);
  }
  // A path is Telegram's own ("photos/file_0.jpg"); nothing that could climb out of /file/bot<token>/.
  if (!/^[\w\-./]+$/.test(filePath) || filePath.split('/').includes('..'))
    throw mediaUnavailable('Telegram gave a malformed file path.');
  const response = await mediaGet(http, `${base}/file/bot${credentials.botToken}/${filePath}`, {
    platform,
    hosts,
    signal,
  });
  if (!response.ok) return refuseUpstream(platform, response);
  return response;
}
