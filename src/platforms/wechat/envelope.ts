/**
 * Safe mode's outer envelope is `<xml><ToUserName>…</ToUserName><Encrypt>…</Encrypt></xml>`
 * and only the Encrypt value is signed. It is found with a bounded text scan, never
 * an XML parser, so a stranger's body costs a few index lookups before the
 * signature check; XML is parsed only after the signature matched and the
 * plaintext decrypted.
 */
const OPEN = '<Encrypt>';
const CLOSE = '</Encrypt>';
const CDATA_OPEN = '<![CDATA[';
const CDATA_CLOSE = ']]>';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The base64 `Encrypt` value of a safe-mode body; undefined when there is not exactly one. */
export function extractEncrypt(body: Buffer): string | undefined {
  const text = body.toString('latin1');
  const start = text.indexOf(OPEN);
  if (start < 0 || text.indexOf(OPEN, start + OPEN.length) >= 0) return undefined;
  const end = text.indexOf(CLOSE, start + OPEN.length);
  if (end < 0) return undefined;
  let value = text.slice(start + OPEN.length, end).trim();
  if (value.startsWith(CDATA_OPEN)) {
    if (!value.endsWith(CDATA_CLOSE)) return undefined;
    value = value.slice(CDATA_OPEN.length, -CDATA_CLOSE.length).trim();
  }
  return value.length > 0 && BASE64.test(value) ? value : undefined;
}
