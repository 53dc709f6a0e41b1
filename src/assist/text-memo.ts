/** The bounds every text memory has unless it names its own. */
export const TEXT_MEMORY_BOUNDS = { texts: 20_000, chars: 4_000_000, longest: 2_000 } as const;

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
    private readonly capacity: number = TEXT_MEMORY_BOUNDS.texts,
    private readonly maxChars: number = TEXT_MEMORY_BOUNDS.chars,
    private readonly longest: number = TEXT_MEMORY_BOUNDS.longest,
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
export function memoText<R>(
  fn: (text: string) => R,
  capacity: number = TEXT_MEMORY_BOUNDS.texts,
): (text: string) => R {
  const memory = new TextMemory<R>(capacity);
  return (text: string) => {
    const known = memory.get(text);
    if (known !== undefined) return known;
    const value = fn(text);
    memory.set(text, value);
    return value;
  };
}

/**
 * Text memories side by side, one per key (a catalog, a locale), bounded over all keys together
 * as one text memory is (texts, characters, longest text held): full, all are dropped whole.
 */
export class KeyedTextMemory<V> {
  private readonly memories = new Map<unknown, Map<string, V>>();
  private held = 0;
  private chars = 0;

  get(key: unknown, text: string): V | undefined {
    return this.memories.get(key)?.get(text);
  }

  set(key: unknown, text: string, value: V): void {
    const { texts, chars, longest } = TEXT_MEMORY_BOUNDS;
    if (text.length > longest) return;
    if (this.held >= texts || this.chars + text.length > chars) {
      this.memories.clear();
      this.held = 0;
      this.chars = 0;
    }
    let memory = this.memories.get(key);
    if (!memory) {
      memory = new Map();
      this.memories.set(key, memory);
    }
    if (!memory.has(text)) {
      this.held += 1;
      this.chars += text.length;
    }
    memory.set(text, value);
  }
}

/** Remembers a pure function of a key (a locale) and a text. */
export function memoTextPer<K, R>(fn: (key: K, text: string) => R): (key: K, text: string) => R {
  const memory = new KeyedTextMemory<R>();
  return (key, text) => {
    const known = memory.get(key, text);
    if (known !== undefined) return known;
    const value = fn(key, text);
    memory.set(key, text, value);
    return value;
  };
}
