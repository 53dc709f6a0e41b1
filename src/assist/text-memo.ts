/**
 * A memory of per-text results, bounded twice: by the texts it holds and by
 * their characters, so a run of long pastes (a webhook text may hold 10,000
 * characters) cannot grow it past a few MB. Full, it is dropped whole (a
 * cheap stand-in for LRU; recent texts come back at once). A text longer than
 * `longest` is never held: it is read afresh each time.
 */
export class TextMemory<V> {
  private readonly memory = new Map<string, V>();
  private chars = 0;

  constructor(
    private readonly capacity = 20_000,
    private readonly maxChars = 4_000_000,
    private readonly longest = 2_000,
  ) {}

  get(text: string): V | undefined {
    return this.memory.get(text);
  }

  set(text: string, value: V): void {
    if (text.length > this.longest) return;
    if (this.memory.size >= this.capacity || this.chars + text.length > this.maxChars) {
      this.memory.clear();
      this.chars = 0;
    }
    if (!this.memory.has(text)) this.chars += text.length;
    this.memory.set(text, value);
  }

  get size(): number {
    return this.memory.size;
  }
}

/**
 * Remembers a pure function of one text. The assistant re-reads the whole
 * recent history for every suggestion, so each buyer message would be
 * scanned again by every recogniser some twenty times over its life; with
 * this, only the new message is.
 */
export function memoText<R>(fn: (text: string) => R, capacity = 20_000): (text: string) => R {
  const memory = new TextMemory<R>(capacity);
  return (text: string) => {
    const known = memory.get(text);
    if (known !== undefined) return known;
    const value = fn(text);
    memory.set(text, value);
    return value;
  };
}
