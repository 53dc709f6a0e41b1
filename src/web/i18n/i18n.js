// The pages' language: one small module shared by the agent console, the owner
// dashboard and any later page. Catalogs are flat JSON files, one per locale,
// served next to this file; text reaches the page through textContent only.

export const LOCALES = ['zh-Hans', 'zh-Hant', 'en'];
const STORAGE_KEY = 'seatmate.locale';

/**
 * The supported locale for a browser's language list: zh-CN/zh-SG (and plain
 * zh, zh-Hans) → Simplified; zh-TW/zh-HK/zh-MO (and zh-Hant) → Traditional;
 * the first supported language in the list wins, English when none is.
 * @param {readonly string[]} languages  navigator.languages
 */
export function localeFor(languages) {
  for (const tag of languages) {
    const lower = String(tag).toLowerCase();
    if (lower === 'zh' || lower.startsWith('zh-')) {
      if (/^zh-(hant|tw|hk|mo)\b/.test(lower)) return 'zh-Hant';
      return 'zh-Hans';
    }
    if (lower === 'en' || lower.startsWith('en-')) return 'en';
  }
  return 'en';
}

/** The locale remembered by the switch, else the browser's. */
export function chosenLocale() {
  const saved = safeStorage()?.getItem(STORAGE_KEY);
  if (saved && LOCALES.includes(saved)) return saved;
  return localeFor(navigator.languages?.length ? navigator.languages : [navigator.language]);
}

export function rememberLocale(locale) {
  if (LOCALES.includes(locale)) safeStorage()?.setItem(STORAGE_KEY, locale);
}

function safeStorage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/**
 * Loads the catalog of `locale` (English fills any key a catalog lacks, so a
 * missing translation shows English rather than a key) and returns the
 * translator with Intl formatters for that locale.
 * @param {string} [locale]
 */
export async function loadI18n(locale = chosenLocale(), base = '/i18n') {
  const load = async (name) => {
    const response = await fetch(`${base}/${name}.json`);
    if (!response.ok) throw new Error(`catalog ${name} answered ${response.status}`);
    return response.json();
  };
  const [english, own] = await Promise.all([
    load('en'),
    locale === 'en' ? Promise.resolve(null) : load(locale),
  ]);
  return createI18n(locale, { ...english, ...(own ?? {}) });
}

/**
 * @param {string} locale
 * @param {Record<string, string>} messages
 */
export function createI18n(locale, messages) {
  const numberFormats = new Map();
  const number = (value, options = {}) => {
    const key = JSON.stringify(options);
    if (!numberFormats.has(key)) numberFormats.set(key, new Intl.NumberFormat(locale, options));
    return numberFormats.get(key).format(value);
  };
  const unit = (value, name) => number(value, { style: 'unit', unit: name, unitDisplay: 'short' });

  /** Looks up a message and fills its `{name}` placeholders from `vars`; numbers are formatted. */
  const t = (key, vars) => {
    const template = messages[key] ?? key;
    if (!vars) return template;
    return template.replace(/\{(\w+)\}/g, (whole, name) => {
      const value = vars[name];
      if (value === undefined || value === null) return whole;
      return typeof value === 'number' ? number(value) : String(value);
    });
  };

  /**
   * The message as DOM nodes, for messages that embed people's text: a Node
   * value (e.g. a translate="no" span holding a buyer's name) is put in as is.
   */
  const nodes = (key, vars = {}) => {
    const template = messages[key] ?? key;
    const out = [];
    let last = 0;
    for (const match of template.matchAll(/\{(\w+)\}/g)) {
      out.push(template.slice(last, match.index));
      const value = vars[match[1]];
      out.push(
        value instanceof Node
          ? value
          : value === undefined || value === null
            ? match[0]
            : typeof value === 'number'
              ? number(value)
              : String(value),
      );
      last = match.index + match[0].length;
    }
    out.push(template.slice(last));
    return out.filter((part) => part !== '');
  };

  const i18n = {
    locale,
    t,
    nodes,
    /**
     * A token for another page pasted into this one: the page's own words
     * (`notHere`), then which page the token opens, as nodes (the page a
     * link). `kind` is /v1/me's: admin (an operator), owner, agent.
     */
    wrongPage(notHere, kind) {
      const page = { admin: '/admin', owner: '/dashboard', agent: '/console' }[kind];
      if (!page) return [notHere];
      const link = document.createElement('a');
      link.href = page;
      link.textContent = page;
      link.setAttribute('translate', 'no');
      const there = document.createDocumentFragment();
      there.append(...nodes(`signIn.tokenOf.${kind}`, { page: link }));
      // Two sentences: a space between them in English, none in Chinese (the catalog says).
      return nodes('signIn.wrongPage', { notHere, there });
    },
    has: (key) => key in messages,
    number,
    /** Integer fen shown as yuan, e.g. 250000 → "¥2,500.00". */
    money(fen) {
      return number(fen / 100, {
        style: 'currency',
        currency: 'CNY',
        currencyDisplay: 'narrowSymbol',
        minimumFractionDigits: 2,
      });
    },
    percent(rate, digits = 1) {
      return number(rate, {
        style: 'percent',
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      });
    },
    /** A span of time as words: "41 sec", "3 min 5 sec", "1 hr 12 min"; 3分钟5秒 in Simplified Chinese. */
    duration(totalSeconds) {
      const s = Math.max(0, Math.round(totalSeconds));
      const parts = [];
      const hours = Math.floor(s / 3600);
      const minutes = Math.floor((s % 3600) / 60);
      const seconds = s % 60;
      if (hours) parts.push(unit(hours, 'hour'));
      if (minutes) parts.push(unit(minutes, 'minute'));
      if (!hours && (seconds || parts.length === 0)) parts.push(unit(seconds, 'second'));
      return parts.join(locale === 'zh-Hans' ? '' : ' ');
    },
    /** A moment in the given time zone (the shop's), date and time. */
    dateTime(value, timeZone) {
      return new Intl.DateTimeFormat(locale, {
        dateStyle: 'medium',
        timeStyle: 'short',
        ...(timeZone ? { timeZone } : {}),
      }).format(new Date(value));
    },
    time(value, timeZone) {
      return new Intl.DateTimeFormat(locale, {
        hour: '2-digit',
        minute: '2-digit',
        ...(timeZone ? { timeZone } : {}),
      }).format(new Date(value));
    },
    /** A calendar day `YYYY-MM-DD` (no time zone shift) or month `YYYY-MM`. */
    day(isoDate) {
      const [y, m, d] = isoDate.split('-').map(Number);
      const date = new Date(Date.UTC(y, m - 1, d ?? 1));
      const options = d
        ? { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }
        : { year: 'numeric', month: 'long', timeZone: 'UTC' };
      return new Intl.DateTimeFormat(locale, options).format(date);
    },
    /**
     * Fills every element under `root` that names a catalog key:
     * data-i18n (text), data-i18n-aria-label, data-i18n-placeholder, data-i18n-title.
     */
    apply(root = document) {
      for (const node of root.querySelectorAll('[data-i18n]'))
        node.textContent = t(node.dataset.i18n);
      for (const [data, attribute] of [
        ['i18nAriaLabel', 'aria-label'],
        ['i18nPlaceholder', 'placeholder'],
        ['i18nTitle', 'title'],
      ]) {
        const selector = `[data-${data.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;
        for (const node of root.querySelectorAll(selector))
          node.setAttribute(attribute, t(node.dataset[data]));
      }
      if (root === document) document.documentElement.lang = locale;
    },
  };
  return i18n;
}

/**
 * A language switch on a <select>: shows the three languages in their own
 * names, remembers the choice and calls `onChange` (pages reload to redraw).
 */
export function languageSwitch(select, current, onChange) {
  const names = { 'zh-Hans': '简体中文', 'zh-Hant': '繁體中文', en: 'English' };
  select.replaceChildren(
    ...LOCALES.map((locale) => {
      const option = document.createElement('option');
      option.value = locale;
      option.lang = locale;
      option.textContent = names[locale];
      option.translate = false;
      option.selected = locale === current;
      return option;
    }),
  );
  select.addEventListener('change', () => {
    rememberLocale(select.value);
    onChange(select.value);
  });
}
