import type { z } from 'zod';
import { AppError } from '../shared/errors';

/** 400 `invalid_payload` naming the first offending field, e.g. `entry.0.changes`. */
export function invalidPayload(field: string, message: string): AppError {
  return new AppError(400, 'invalid_payload', `${field}: ${message}`, { details: { field } });
}

/** Parses the raw body as JSON; a platform never sends anything else on these routes. */
export function parseJsonBody(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw invalidPayload('body', 'is not valid JSON');
  }
}

/**
 * The ISO instant of `ms` since the epoch. A platform's timestamp can be a
 * valid integer that no Date holds (past ±8.64e15 ms), where toISOString
 * throws: that is a malformed payload (400 naming the field), not our 500.
 */
export function instantOf(ms: number, field: string): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw invalidPayload(field, 'is out of range');
  return date.toISOString();
}

/** Validates a payload with a zod schema and turns the first issue into a 400 naming its path. */
export function parsePayload<T>(
  schema: z.ZodType<T>,
  value: unknown,
  at: readonly (string | number)[] = [],
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [...at, ...(issue?.path ?? [])];
  const field = path.length > 0 ? path.map(String).join('.') : 'body';
  throw invalidPayload(field, issue?.message ?? 'is invalid');
}
