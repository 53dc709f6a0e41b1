import { z } from 'zod';

/** A required, non-empty credential string whose error names the field, whatever went wrong. */
export function requiredCredential(name: string) {
  const message = `${name} is required (a non-empty string)`;
  return z.string({ error: message }).trim().min(1, { error: message });
}
