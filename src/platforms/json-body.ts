import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import { AppError } from '../shared/errors';

/**
 * Parses a JSON request body against a schema; a 400 names the first bad field. Bytes that
 * are not UTF-8 are refused rather than decoded: decoding would store U+FFFD in their place,
 * silently changing what the client sent.
 */
export function parseJsonBody<T>(raw: Buffer | string, schema: z.ZodType<T>): T {
  if (typeof raw !== 'string' && !isUtf8(raw))
    throw new AppError(400, 'malformed_json', 'The body is not valid UTF-8; send JSON in UTF-8.');
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    throw new AppError(400, 'malformed_json', 'The body is not valid JSON.');
  }
  return validate(value, schema);
}

export function validate<T>(value: unknown, schema: z.ZodType<T>): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : '(body)';
  throw new AppError(400, 'invalid_request', `${field}: ${issue?.message ?? 'invalid value'}`, {
    details: {
      field,
      issues: result.error.issues
        .slice(0, 10)
        .map((i) => ({ field: i.path.join('.'), message: i.message })),
    },
  });
}
