import { XMLParser } from 'fast-xml-parser';

/**
 * Every tag value stays a string: MsgId is a 64-bit integer (WeChat's own
 * example 6054768590064713728 is above 2^53) and must never pass through Number.
 * WeChat wraps text in CDATA, taken as it is; a sender that escapes instead
 * (`<Content>a &amp; b</Content>`, as any XML writer may) means the same
 * text, so character references are decoded outside CDATA (numeric ones need
 * `htmlEntities`). Entities a document declares itself are never expanded:
 * a body with a DOCTYPE is not WeChat's (see parseWechatXml).
 */
const parser = new XMLParser({
  parseTagValue: false,
  ignoreAttributes: true,
  trimValues: true,
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
});

/** A document type declaration, the only place a document can declare entities of its own. */
const DOCTYPE = /<!DOCTYPE/i;

/** Parses `<xml>...</xml>` into its flat child fields; null when there is no such root. */
export function parseWechatXml(text: string): Record<string, unknown> | null {
  if (DOCTYPE.test(text)) return null;
  let document: unknown;
  try {
    document = parser.parse(text, true);
  } catch {
    return null;
  }
  if (typeof document !== 'object' || document === null) return null;
  const root = (document as Record<string, unknown>).xml;
  return typeof root === 'object' && root !== null ? (root as Record<string, unknown>) : null;
}

export function stringField(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  return typeof value === 'string' ? value : undefined;
}
