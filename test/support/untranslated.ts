import type { Page } from 'playwright-core';

/**
 * Latin words a Chinese page may show: product and platform names, key names
 * in the shortcut help, and the token prefix. Anything else in Latin letters
 * on a zh-Hans/zh-Hant page is English that escaped the catalogs.
 */
export const LATIN_ALLOWED = [
  'Seatmate',
  'LINE',
  'WhatsApp',
  'Messenger',
  'Telegram',
  'Shopify',
  'CSV',
  'JSON',
  'Alt',
  'Shift',
  'Enter',
  'Esc',
  'E',
  'J',
  'K',
  'R',
  'C',
  'T',
  'X',
  'agt',
  // The placeholder an agent types in a quick phrase.
  'buyerName',
];

/**
 * Latin words on screen outside people's own text: visible text nodes, plus
 * aria-label, placeholder and title attributes and the tab title. Names,
 * buyer messages and suggestions are marked translate="no" and skipped, also
 * where a label quotes them.
 */
export async function untranslatedWords(
  page: Page,
): Promise<Array<{ word: string; context: string }>> {
  return page.evaluate((allowed) => {
    const allow = new Set(allowed);
    const found: Array<{ word: string; context: string }> = [];
    // People's text shown on the page may also appear inside a label ("Emma, Harbour Tea, waiting 2 min").
    const people = Array.from(document.querySelectorAll('[translate="no"]'))
      .map((el) => el.textContent?.trim() ?? '')
      .filter((text) => text.length > 0)
      .sort((a, b) => b.length - a.length);
    const collect = (raw: string | null, where: string) => {
      let text = raw ?? '';
      for (const known of people) text = text.split(known).join(' ');
      for (const match of text.matchAll(/[A-Za-z]+/g))
        if (!allow.has(match[0])) found.push({ word: match[0], context: `${where}: ${text}` });
    };
    const skipped = (el: Element) => el.closest('[translate="no"], script, style') !== null;
    const visible = (el: Element) => {
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const parent = walker.currentNode.parentElement;
      if (parent && !skipped(parent) && visible(parent))
        collect(walker.currentNode.textContent, parent.tagName.toLowerCase());
    }
    for (const el of Array.from(
      document.querySelectorAll('[aria-label], [placeholder], [title]'),
    )) {
      if (skipped(el)) continue;
      for (const name of ['aria-label', 'placeholder', 'title'])
        if (el.hasAttribute(name))
          collect(el.getAttribute(name), `${el.tagName.toLowerCase()}[${name}]`);
    }
    collect(document.title, 'title');
    return found;
  }, LATIN_ALLOWED);
}
