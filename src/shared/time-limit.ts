/** `work`'s outcome, or a rejection with `timeout` once `ms` have passed first. */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
