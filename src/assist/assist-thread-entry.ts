/**
 * The assist thread's script. The built service (scripts/lib/build-service.mjs, where
 * `process.env.SEATMATE_BUNDLED` is replaced by "1") runs the thread from its own build beside
 * it, dist/assist-thread.mjs; the sources (tsx, the tests) run this directory's TypeScript through tsx
 * (assist-thread-sources.mjs).
 */
export const ASSIST_THREAD_ENTRY: URL =
  process.env.SEATMATE_BUNDLED === '1'
    ? new URL('../../dist/assist-thread.mjs', import.meta.url)
    : new URL('./assist-thread-sources.mjs', import.meta.url);
