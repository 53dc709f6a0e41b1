import type { z } from 'zod';
import { AppError } from '../shared/errors';
import type { ParsedDelivery } from './contract';

/** 400 `invalid_payload` naming the first offending field, e.g. `entry.0.changes`. */
export function invalidPayload(field: string, message: string): AppError {
  return new AppError(400, 'invalid_payload', `${field}: ${message}`, { details: { field } });
}

/** UTF-8's byte order mark, EF BB BF. */
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The body without a leading UTF-8 byte order mark, which some senders' JSON
 * writers put first (.NET's UTF-8 encoder, editors). RFC 8259 §8.1 lets a
 * parser ignore it, and JSON.parse would refuse it. The signature has already
 * been checked over the bytes as sent, mark included.
 */
export function withoutBom(rawBody: Buffer): Buffer {
  return rawBody.subarray(0, 3).equals(UTF8_BOM) ? rawBody.subarray(3) : rawBody;
}

/** Parses the raw body as JSON; a platform never sends anything else on these routes. */
export function parseJsonBody(rawBody: Buffer): unknown {
  try {
    return JSON.parse(withoutBom(rawBody).toString('utf8'));
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

/**
 * One event of a batched delivery (LINE, Messenger, WhatsApp send up to
 * hundreds at once). A malformed event is set aside, named by its field, so
 * the good ones beside it are queued: refusing the whole batch would have the
 * platform retry it, failing the same way each time, until all of it is lost.
 */
export function eachEvent(refused: AppError[], parse: () => void): void {
  try {
    parse();
  } catch (error) {
    if (error instanceof AppError && error.status === 400) refused.push(error);
    else throw error;
  }
}

/**
 * A batch's result: its events, the kinds it had no rule for, and the fields
 * of the events set aside. A batch in which nothing was usable and something
 * was malformed is refused as a whole (400 naming the first), as a single
 * bad event always was.
 */
export function batchResult(
  events: ParsedDelivery['events'],
  unknownKinds: string[],
  refused: AppError[],
): ParsedDelivery {
  if (refused.length > 0 && events.length === 0) throw refused[0];
  return {
    events,
    ...(unknownKinds.length > 0 ? { unknownKinds } : {}),
    ...(refused.length > 0
      ? { refusedEvents: refused.map((error) => String(error.details?.field ?? error.message)) }
      : {}),
  };
}
