import type { OutboundReply, PlatformHttp, SendResult } from '../contract';
import { closedWindow, openWindowAllows } from '../reply-window';
import {
  describeFailure,
  failureFromStatus,
  isPlatformResponse,
  networkFailure,
  PLATFORM_TIMEOUT_MS,
  platformMessage,
  postJson,
  readField,
  readJsonBounded,
} from '../send-result';
import type { WechatCredentials } from './credentials';

/** errcodes meaning the access token itself is bad: 40001 invalid, 40014 malformed, 42001 expired. */
export const TOKEN_ERRCODES = new Set(['40001', '40014', '42001']);
/** errcodes worth retrying later: -1 system busy, 45009 daily quota, 45011 frequency limit. */
const RETRYABLE_ERRCODES = new Set(['-1', '45009', '45011']);
/** Tokens live 7200 s; refresh 5 min early so a cached token never expires mid-send. */
const TOKEN_EARLY_REFRESH_SECONDS = 300;

export class TokenFetchError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const tokenKey = (credentials: WechatCredentials) => `wechat:access-token:${credentials.appId}`;

/**
 * Fetches a new access token under the shared lock. Fetching retires the
 * previous token, so exactly one worker may do it; `stale` is the token that
 * was just refused, and any other cached value is already a fresh one.
 */
export async function refreshToken(
  credentials: WechatCredentials,
  http: PlatformHttp,
  stale: string | null,
): Promise<string> {
  const key = tokenKey(credentials);
  return http.tokenCache.withLock(key, async () => {
    const current = await http.tokenCache.get(key);
    if (current !== null && current !== stale) return current;
    const url =
      `${http.apiBase.wechat}/cgi-bin/token?grant_type=client_credential` +
      `&appid=${encodeURIComponent(credentials.appId)}&secret=${encodeURIComponent(credentials.appSecret)}`;
    let response: Response;
    try {
      response = await http.fetch(url, {
        method: 'GET',
        signal: AbortSignal.timeout(PLATFORM_TIMEOUT_MS),
      });
    } catch (error) {
      // As every sender says it: a refused destination is final, a network error only its code.
      const failure = networkFailure(error);
      throw new TokenFetchError(`WeChat token request: ${failure.error}`, failure.retryable);
    }
    // Bounded like every platform answer: a token answer is a few hundred bytes.
    const body = await readJsonBounded(response);
    if (!response.ok)
      throw new TokenFetchError(
        `WeChat token request answered HTTP ${response.status}`,
        response.status === 429 || response.status >= 500,
      );
    const token = readField(body, ['access_token']);
    const expiresIn = Number(readField(body, ['expires_in']) ?? 7200);
    if (!token) {
      const errcode = readField(body, ['errcode']) ?? 'unknown';
      const errmsg = platformMessage(body, ['errmsg']) ?? 'no access_token in the answer';
      // -1 is "system busy"; anything else (bad AppSecret, IP not whitelisted...) needs the owner.
      throw new TokenFetchError(`WeChat token: ${errmsg} (errcode ${errcode})`, errcode === '-1');
    }
    await http.tokenCache.set(key, token, Math.max(60, expiresIn - TOKEN_EARLY_REFRESH_SECONDS));
    return token;
  });
}

export async function accessToken(
  credentials: WechatCredentials,
  http: PlatformHttp,
): Promise<string> {
  return (
    (await http.tokenCache.get(tokenKey(credentials))) ?? refreshToken(credentials, http, null)
  );
}

/**
 * Sends through the customer-service message API (客服消息): allowed for 48 h
 * after the buyer's last message and at most 5 times until they write again.
 * An invalid or expired token is refreshed once and the send retried once.
 */
export async function sendWechatText(
  reply: OutboundReply,
  credentials: WechatCredentials,
  http: PlatformHttp,
): Promise<SendResult> {
  const closed = closedWindow(reply, { platform: 'WeChat', hours: 48, maxReplies: 5 });
  // A menu click opens a window of its own: 3 messages within a minute.
  if (closed && !openWindowAllows(reply, { seconds: 60, maxReplies: 3 })) return closed;
  const openId = reply.replyContext?.openId ?? reply.buyerId;
  const body = { touser: openId, msgtype: 'text', text: { content: reply.text } };
  try {
    let token = await accessToken(credentials, http);
    for (let attempt = 0; ; attempt += 1) {
      const url = `${http.apiBase.wechat}/cgi-bin/message/custom/send?access_token=${encodeURIComponent(token)}`;
      const result = await postJson(http, url, body);
      if (!isPlatformResponse(result)) return result;
      if (result.status < 200 || result.status >= 300) {
        return failureFromStatus(
          result.status,
          describeFailure(result.status, result.body, ['errmsg']),
        );
      }
      const errcode = readField(result.body, ['errcode']) ?? '0';
      if (errcode === '0') {
        const msgId = readField(result.body, ['msgid']);
        return msgId ? { ok: true, platformMessageId: msgId } : { ok: true };
      }
      const error = `${platformMessage(result.body, ['errmsg']) ?? 'WeChat refused the message'} (errcode ${errcode})`;
      if (TOKEN_ERRCODES.has(errcode)) {
        if (attempt > 0) return { ok: false, retryable: true, error };
        token = await refreshToken(credentials, http, token);
        continue;
      }
      return { ok: false, retryable: RETRYABLE_ERRCODES.has(errcode), error };
    }
  } catch (error) {
    if (error instanceof TokenFetchError)
      return { ok: false, retryable: error.retryable, error: error.message };
    return networkFailure(error);
  }
}
