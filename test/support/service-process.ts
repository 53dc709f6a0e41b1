// @ts-expect-error plain .mjs shared with `npm start`, no type declarations
import { SERVICE_BUNDLE } from '../../scripts/lib/build-service.mjs';
// @ts-expect-error plain .mjs shared with `npm start`, no type declarations
import { SERVICE_NODE_FLAGS } from '../../scripts/lib/node-flags.mjs';

/**
 * Node's arguments for the service in `role`, as `npm start` gives them: its flags and its
 * build (dist/service.mjs, built once per run by test/setup/redis-global.ts), so the tests
 * that start whole processes run the JavaScript that ships, not the sources through tsx.
 */
export function serviceArgs(role: 'all' | 'api' | 'worker'): string[] {
  return [...(SERVICE_NODE_FLAGS as string[]), SERVICE_BUNDLE as string, role];
}
