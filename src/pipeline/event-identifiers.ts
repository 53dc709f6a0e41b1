import type { NormalizedEvent } from '../platforms/contract';
import { AppError } from '../shared/errors';

/** C0 controls (NUL included), DEL and the C1 block: never part of a platform's id. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const MAX_ID_LENGTH = 256;

/** Every identifier an event carries, named by the field a 400 will point at. */
function identifiersOf(event: NormalizedEvent): Array<[string, string]> {
  switch (event.kind) {
    case 'message':
      return [
        ['eventId', event.eventId],
        ['messageId', event.messageId],
        ['buyer.id', event.buyer.id],
        ...(event.thread ? [['thread.id', event.thread.id] as [string, string]] : []),
      ];
    case 'open':
      return [
        ['eventId', event.eventId],
        ['buyer.id', event.buyer.id],
        ...(event.thread ? [['thread.id', event.thread.id] as [string, string]] : []),
      ];
    case 'order':
      return [
        ['eventId', event.eventId],
        ['orderId', event.orderId],
        ['buyerId', event.buyerId],
      ];
    case 'rating':
      return [
        ['eventId', event.eventId],
        ['buyerId', event.buyerId],
      ];
  }
}

/**
 * Refuses (400 `invalid_identifier`) a delivery whose ids hold control
 * characters, are empty or are too long, whatever platform parsed them: ids
 * become parts of Redis keys and index members, where a NUL could make one
 * buyer's entry read as another's.
 */
export function checkIdentifiers(events: readonly NormalizedEvent[]): void {
  for (const [index, event] of events.entries()) {
    for (const [field, value] of identifiersOf(event)) {
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
        throw invalidIdentifier(index, field, `must be 1 to ${MAX_ID_LENGTH} characters`);
      }
      if (CONTROL.test(value))
        throw invalidIdentifier(index, field, 'must not contain control characters');
    }
  }
}

function invalidIdentifier(index: number, field: string, message: string): AppError {
  return new AppError(400, 'invalid_identifier', `events.${index}.${field}: ${message}.`, {
    details: { field: `events.${index}.${field}` },
  });
}

/** True when `id` is usable as an identifier (the same rule, for ids arriving elsewhere). */
export function isCleanIdentifier(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_LENGTH && !CONTROL.test(id);
}
