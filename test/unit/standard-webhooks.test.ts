import { createHmac } from 'node:crypto';
import { Webhook as ReferenceWebhook } from 'standardwebhooks';
import { describe, expect, it, vi } from 'vitest';
import {
  signStandardWebhook,
  verifyStandardWebhook,
} from '../../src/platforms/generic/standard-webhooks';
import { AppError } from '../../src/shared/errors';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const ts = 1614265330;
const body = Buffer.from('{"test": 2432232314}');
const now = ts * 1000;

function headers(signature: string, timestamp: number | string = ts): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
  };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(401);
    return (error as AppError).code;
  }
}

describe('Standard Webhooks signature', () => {
  it('matches the reference library test vector', () => {
    expect(signStandardWebhook(secret, id, ts, body)).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('accepts a valid signature', () => {
    expect(
      verifyStandardWebhook(secret, headers(signStandardWebhook(secret, id, ts, body)), body, now),
    ).toEqual({ id, timestamp: ts });
  });

  it('rejects a tampered body', () => {
    const signature = signStandardWebhook(secret, id, ts, body);
    expect(
      codeOf(() =>
        verifyStandardWebhook(secret, headers(signature), Buffer.from('{"test": 2432232315}'), now),
      ),
    ).toBe('invalid_signature');
  });

  it('rejects a signature made with another secret', () => {
    const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(
      codeOf(() =>
        verifyStandardWebhook(secret, headers(signStandardWebhook(other, id, ts, body)), body, now),
      ),
    ).toBe('invalid_signature');
  });

  it('accepts any one of several signatures, so senders can rotate secrets', () => {
    const old = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    const both = `${signStandardWebhook(old, id, ts, body)} ${signStandardWebhook(secret, id, ts, body)}`;
    expect(() => verifyStandardWebhook(secret, headers(both), body, now)).not.toThrow();
    expect(() => verifyStandardWebhook(old, headers(both), body, now)).not.toThrow();
  });

  it.each([
    [-299, undefined],
    [299, undefined],
    [-301, 'stale_timestamp'],
    [301, 'stale_timestamp'],
  ])('timestamp %i s from now gives %s', (offset, expected) => {
    const stamped = ts + offset;
    const signature = signStandardWebhook(secret, id, stamped, body);
    expect(
      codeOf(() => verifyStandardWebhook(secret, headers(signature, stamped), body, now)),
    ).toBe(expected);
  });

  // The reference verifier compares whole seconds: a delivery exactly 300 s old is still on
  // time however late in the current second it arrives.
  it.each([-301, -300, 300, 301])(
    'agrees with the reference verifier %i s from now, 999 ms into the second',
    (offset) => {
      const stamped = ts + offset;
      const signature = signStandardWebhook(secret, id, stamped, body);
      const late = now + 999;
      vi.useFakeTimers({ now: late });
      let reference: boolean;
      try {
        new ReferenceWebhook(secret).verify(body, headers(signature, stamped));
        reference = true;
      } catch {
        reference = false;
      } finally {
        vi.useRealTimers();
      }
      const ours = codeOf(() =>
        verifyStandardWebhook(secret, headers(signature, stamped), body, late),
      );
      expect(ours === undefined).toBe(reference);
      expect(reference).toBe(Math.abs(offset) <= 300);
    },
  );

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'rejects a delivery without %s',
    (name) => {
      const all = headers(signStandardWebhook(secret, id, ts, body));
      delete all[name];
      expect(codeOf(() => verifyStandardWebhook(secret, all, body, now))).toBe('missing_signature');
    },
  );

  it('ignores signature versions it does not know rather than failing open', () => {
    expect(codeOf(() => verifyStandardWebhook(secret, headers('v1a,abc v2,def'), body, now))).toBe(
      'invalid_signature',
    );
  });

  it("names the bridge developer's first two mistakes: no v1, prefix, the whole secret as the key", () => {
    const messageOf = (signature: string) => {
      try {
        verifyStandardWebhook(secret, headers(signature), body, now);
        return undefined;
      } catch (error) {
        expect((error as AppError).code).toBe('invalid_signature');
        return (error as AppError).message;
      }
    };
    const right = signStandardWebhook(secret, id, ts, body);
    expect(messageOf(right.slice('v1,'.length))).toBe(
      'webhook-signature must be "v1," followed by the base64 signature (several separated by spaces).',
    );
    const keyedWithWholeSecret = createHmac('sha256', secret)
      .update(`${id}.${ts}.${body}`)
      .digest('base64');
    expect(messageOf(`v1,${keyedWithWholeSecret}`)).toBe(
      'No webhook-signature matches this body and the shop secret: sign "<webhook-id>.<webhook-timestamp>.<body>" (the exact bytes sent) with HMAC-SHA256, keyed with the base64-decoded part of the secret after whsec_ (docs/platforms.md).',
    );
    expect(messageOf(right)).toBeUndefined();
  });
});
