// The tab's working state kept in sessionStorage, so a reload (or the page
// redrawing itself in another language) keeps the open conversation and every
// half-typed draft. sessionStorage, like the token: closing the tab or signing
// out forgets it, so buyer text does not outlive the agent's session.

/** @param {string} prefix */
export function sessionStore(prefix) {
  const read = (name, fallback) => {
    try {
      const raw = sessionStorage.getItem(`${prefix}.${name}`);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  };
  const write = (name, value) => {
    try {
      if (value === null || value === undefined) sessionStorage.removeItem(`${prefix}.${name}`);
      else sessionStorage.setItem(`${prefix}.${name}`, JSON.stringify(value));
    } catch {
      // Storage full or disabled: the page still works, only without surviving a reload.
    }
  };
  return {
    /** The open conversation id, or null. */
    get selected() {
      return read('selected', null);
    },
    set selected(id) {
      write('selected', id);
    },
    /** @returns {{text: string, editing: {id: string, tactic: string} | null} | null} */
    draft(conversationId) {
      return read('drafts', {})[conversationId] ?? null;
    },
    saveDraft(conversationId, text, editing) {
      const drafts = read('drafts', {});
      if (text) drafts[conversationId] = { text, editing: editing ?? null };
      else delete drafts[conversationId];
      write('drafts', drafts);
    },
    clear() {
      write('selected', null);
      write('drafts', null);
    },
  };
}
