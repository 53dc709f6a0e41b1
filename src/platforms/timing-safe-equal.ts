import { timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in constant time. `timingSafeEqual` throws on unequal
 * lengths, so the length is checked first; that leaks only the length, which
 * every scheme here fixes anyway (hex/base64 digests).
 */
export function timingSafeEqualText(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
