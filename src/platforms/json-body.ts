import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import { AppError } from '../shared/errors';

/** A `\uD800`–`\uDFFF` escape: the only way JSON in UTF-8 can carry an unpaired surrogate. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** An unpaired surrogate (in `u` mode a well-formed pair is one code point, not `Cs`). */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Parses a JSON request body against a schema; a 400 names the first bad field. The text
 * must be Unicode: bytes that are not UTF-8 are refused rather than decoded (decoding would
 * store U+FFFD in their place, silently changing what the client sent), and so is a string
 * with an unpaired surrogate escape (`"\ud800"`), which no UTF-8 text can hold: stored, it is
 * JSON that Redis's own JSON decoder refuses.
 */
export function parseJsonBody<T>(raw: Buffer | string, schema: z.ZodType<T>): T {
  if (typeof raw !== 'string' && !isUtf8(raw))
    throw new AppError(400, 'malformed_json', 'The body is not valid UTF-8; send JSON in UTF-8.');
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError(400, 'malformed_json', 'The body is not valid JSON.');
  }
  if (SURROGATE_ESCAPE.test(text)) {
    const field = illFormedAt(value);
    if (field !== null)
      throw new AppError(
        400,
        'invalid_request',
        `${field}: is not valid Unicode (an unpaired surrogate); send text as UTF-8`,
        { details: { field } },
      );
  }
  return validate(value, schema);
}

/** Where the first string (or key) with an unpaired surrogate is; iterative, for any depth. */
function illFormedAt(root: unknown): string | null {
  const pending: Array<{ value: unknown; path: string }> = [{ value: root, path: '' }];
  const at = (path: string, key: string) => (path ? `${path}.${key}` : key);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return path || '(body)';
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        pending.push({ value: item, path: at(path, String(i)) });
      });
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (LONE_SURROGATE.test(key)) return at(path, '(a key)');
        pending.push({ value: item, path: at(path, key) });
      }
    }
  }
  return null;
}

export function validate<T>(value: unknown, schema: z.ZodType<T>): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = clip(issue?.path.length ? issue.path.join('.') : '(body)');
  throw new AppError(
    400,
    'invalid_request',
    `${field}: ${clip(issue?.message ?? 'invalid value')}`,
    {
      details: {
        field,
        issues: result.error.issues
          .slice(0, 10)
          .map((i) => ({ field: clip(i.path.join('.')), message: clip(i.message) })),
      },
    },
  );
}

/**
 * A field name or message as the refusal repeats it: zod names unknown keys in its message,
 * and a stranger's key may be 50 KB long. Never ends on half of a surrogate pair.
 */
function clip(text: string, max = 120): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}
