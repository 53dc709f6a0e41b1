/**
 * Remembers a pure function of one text. The assistant re-reads the whole
 * recent history for every suggestion, so each buyer message would be
 * scanned again by every recogniser some twenty times over its life; with
 * this, only the new message is. Bounded: the memory is dropped whole when
 * it holds `capacity` texts (a cheap stand-in for LRU; recent texts come
 * back at once).
 */
export function memoText<R>(fn: (text: string) => R, capacity = 20_000): (text: string) => R {
  const memory = new Map<string, R>();
  return (text: string) => {
    const known = memory.get(text);
    if (known !== undefined) return known;
    const value = fn(text);
    if (memory.size >= capacity) memory.clear();
    memory.set(text, value);
    return value;
  };
}
