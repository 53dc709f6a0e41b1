import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** What a widget session token proves: this browser is buyer `buyerId` of `shopId`, on `origin`. */
export interface WidgetSession {
  shopId: string;
  buyerId: string;
  origin: string;
  /** ms since the epoch. */
  expiresAt: number;
}

const PREFIX = 'wst_';

/**
 * Signed, expiring session tokens for the storefront widget (HMAC-SHA256 with
 * a key derived from SECRETS_KEY). Stateless, so any API instance verifies
 * them; bound to shop, buyer and origin so a token copied to another site or
 * another shop is worthless.
 */
export class WidgetSessionTokens {
  private readonly key: Buffer;

  constructor(secretsKey: string) {
    this.key = Buffer.from(hkdfSync('sha256', secretsKey, 'seatmate', 'widget-session-v1', 32));
  }

  issue(session: WidgetSession): string {
    const body = Buffer.from(
      JSON.stringify([session.shopId, session.buyerId, session.origin, session.expiresAt]),
    ).toString('base64url');
    return `${PREFIX}${body}.${this.sign(body)}`;
  }

  /**
   * The session a token carries when its signature holds, else null. Expiry is
   * the caller's rule: a recently expired token may still name the buyer when a
   * returning browser asks for a fresh session.
   */
  read(token: string): WidgetSession | null {
    if (!token.startsWith(PREFIX) || token.length > 2048) return null;
    const [body, signature] = token.slice(PREFIX.length).split('.');
    if (!body || !signature) return null;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const [shopId, buyerId, origin, expiresAt] = JSON.parse(
        Buffer.from(body, 'base64url').toString('utf8'),
      ) as unknown[];
      if (
        typeof shopId !== 'string' ||
        typeof buyerId !== 'string' ||
        typeof origin !== 'string' ||
        typeof expiresAt !== 'number'
      )
        return null;
      return { shopId, buyerId, origin, expiresAt };
    } catch {
      return null;
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
