/**
 * The assist thread's script. The built service runs the thread's own build, named by its
 * content's hash (scripts/lib/build-service.mjs puts that name in `SEATMATE_ASSIST_THREAD` and
 * "1" in `SEATMATE_BUNDLED` when it builds the service), so a service always starts a thread of
 * its own code, whatever a later build wrote beside it. The sources (tsx, the tests) run this
 * directory's TypeScript through tsx (assist-thread-sources.mjs).
 */
export const ASSIST_THREAD_ENTRY: URL =
  process.env.SEATMATE_BUNDLED === '1'
    ? new URL(
        `../../dist/${process.env.SEATMATE_ASSIST_THREAD ?? 'assist-thread.mjs'}`,
        import.meta.url,
      )
    : new URL('./assist-thread-sources.mjs', import.meta.url);
