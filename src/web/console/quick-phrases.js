// Quick phrases (快捷短语): search by shortcut or text, fill {buyerName}.

/**
 * Phrases matching `query`: shortcut prefix first, then shortcut or text
 * containing it; case-insensitive. At most `limit`.
 * @param {Array<{id: string, shortcut: string, text: string, scope?: string}>} phrases
 */
export function filterPhrases(phrases, query, limit = 8) {
  const q = query.trim().toLowerCase();
  if (!q) return phrases.slice(0, limit);
  const rank = (phrase) => {
    const shortcut = phrase.shortcut.toLowerCase();
    if (shortcut.startsWith(q)) return 0;
    if (shortcut.includes(q)) return 1;
    if (phrase.text.toLowerCase().includes(q)) return 2;
    return 3;
  };
  return phrases
    .map((phrase) => ({ phrase, rank: rank(phrase) }))
    .filter((entry) => entry.rank < 3)
    .sort((a, b) => a.rank - b.rank)
    .slice(0, limit)
    .map((entry) => entry.phrase);
}

/** Fills the placeholders a phrase may hold; an unknown placeholder stays as written. */
export function fillPhrase(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    typeof values[name] === 'string' && values[name] ? values[name] : whole,
  );
}

/**
 * The "/query" being typed just before the caret, if any: a slash at the start
 * of the composer or after a space or line break.
 * @returns {{start: number, query: string} | null}
 */
export function slashQuery(value, caret) {
  const before = value.slice(0, caret);
  const match = /(^|\s)\/([^\s/]*)$/.exec(before);
  if (!match) return null;
  return { start: caret - match[2].length - 1, query: match[2] };
}
