// Seatmate storefront chat widget. One file, no framework: a launcher and a chat
// panel in a shadow root (the shop's CSS cannot reach in, ours cannot leak out),
// and `window.Seatmate` for the shop's own buttons. Buyer and agent text is only
// ever set with textContent.
(() => {
  if (window.Seatmate?.version) return;
  const script = document.currentScript || document.querySelector('script[data-seatmate-key]');
  if (!script) return;
  const widgetKey = script.getAttribute('data-seatmate-key') || '';
  const serviceOrigin = new URL(script.src, location.href).origin;
  const apiBase = `${serviceOrigin}/v1/widget/${encodeURIComponent(widgetKey)}`;
  const storageKey = `seatmate:${widgetKey}`;

  const TEXT = {
    'zh-Hans': {
      open: '在线咨询',
      close: '关闭对话',
      title: '在线客服',
      placeholder: '输入消息，按 Enter 发送',
      send: '发送',
      you: '我',
      shop: '客服',
      offline: '客服暂时不在线，请留言，我们会尽快回复您。',
      sending: '发送中…',
      failed: '未发送',
      empty: '您好！有什么可以帮您？',
      errors: {
        origin_not_allowed: '此网站未开通在线客服。',
        rate_limited: '发送太频繁，请稍后再试。',
        invalid_request: '消息不能为空，且不超过 2000 字。',
        network: '网络连接中断，请稍后再试。',
        other: '暂时无法发送，请稍后再试。',
      },
    },
    'zh-Hant': {
      open: '線上諮詢',
      close: '關閉對話',
      title: '線上客服',
      placeholder: '輸入訊息，按 Enter 傳送',
      send: '傳送',
      you: '我',
      shop: '客服',
      offline: '客服暫時不在線，請留言，我們會盡快回覆您。',
      sending: '傳送中…',
      failed: '未傳送',
      empty: '您好！有什麼可以幫您？',
      errors: {
        origin_not_allowed: '此網站未開通線上客服。',
        rate_limited: '傳送太頻繁，請稍後再試。',
        invalid_request: '訊息不能為空，且不超過 2000 字。',
        network: '網路連線中斷，請稍後再試。',
        other: '暫時無法傳送，請稍後再試。',
      },
    },
    en: {
      open: 'Chat with us',
      close: 'Close chat',
      title: 'Chat',
      placeholder: 'Type a message, Enter to send',
      send: 'Send',
      you: 'You',
      shop: 'Shop',
      offline: 'No one is online right now. Leave a message and we will reply as soon as we can.',
      sending: 'Sending…',
      failed: 'Not sent',
      empty: 'Hello! How can we help?',
      errors: {
        origin_not_allowed: 'Chat is not enabled for this site.',
        rate_limited: 'You are sending too fast; please wait a moment.',
        invalid_request: 'A message must not be empty or longer than 2000 characters.',
        network: 'The connection dropped; please try again.',
        other: 'The message could not be sent; please try again.',
      },
    },
  };

  function pickLocale() {
    const wanted = (
      script.getAttribute('data-lang') ||
      document.documentElement.lang ||
      navigator.language ||
      'en'
    ).toLowerCase();
    if (!wanted.startsWith('zh')) return 'en';
    return /hant|tw|hk|mo/.test(wanted) ? 'zh-Hant' : 'zh-Hans';
  }
  const locale = pickLocale();
  const t = TEXT[locale];

  // ---- state -------------------------------------------------------------
  const listeners = { message: new Set() };
  const shown = new Set();
  let session = null;
  let live = null;
  let retryMs = 1000;
  let ready = null;
  const store = {
    get() {
      try {
        return JSON.parse(localStorage.getItem(storageKey) || 'null');
      } catch {
        return null;
      }
    },
    set(value) {
      try {
        localStorage.setItem(storageKey, JSON.stringify(value));
      } catch {
        // Private mode: the session lasts for this page only.
      }
    },
  };

  class WidgetError extends Error {
    constructor(code, message, status) {
      super(message);
      this.name = 'SeatmateError';
      this.code = code;
      this.status = status;
    }
  }

  async function call(path, init = {}, renewed = false) {
    let response;
    try {
      response = await fetch(`${apiBase}${path}`, {
        ...init,
        headers: {
          ...(init.body ? { 'content-type': 'application/json' } : {}),
          ...(session ? { authorization: `Bearer ${session.token}` } : {}),
        },
      });
    } catch {
      // The API grants no CORS to an origin not on the shop's list, so the browser shows its
      // refusal as a failed request. If the service answers a plain no-cors request, that is it.
      if (path === '/session' && (await serviceAnswers())) {
        console.warn(
          `Seatmate: ${location.origin} is not among this shop's allowed origins (credentials.allowedOrigins); ask your Seatmate operator to add it.`,
        );
        throw new WidgetError('origin_not_allowed', t.errors.origin_not_allowed, 403);
      }
      throw new WidgetError('network', t.errors.network, 0);
    }
    if (response.status === 401 && path !== '/session' && !renewed) {
      // The session expired (24 h) while the page stayed open: a fresh one keeps the buyer id.
      ready = null;
      await start();
      return call(path, init, true);
    }
    if (response.status === 204) return null;
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const code = body?.error?.code || 'other';
      throw new WidgetError(code, t.errors[code] || t.errors.other, response.status);
    }
    return body;
  }

  async function serviceAnswers() {
    try {
      await fetch(`${serviceOrigin}/healthz`, { mode: 'no-cors', cache: 'no-store' });
      return true;
    } catch {
      return false;
    }
  }

  function start() {
    ready ??= (async () => {
      const previous = store.get();
      session = await call('/session', {
        method: 'POST',
        body: JSON.stringify(previous?.token ? { token: previous.token } : {}),
      });
      store.set({ token: session.token, hadConversation: previous?.hadConversation === true });
      ui.applyShop(session.shop, session.agentsAvailable);
      if (previous?.hadConversation) {
        await loadHistory();
        connect();
      }
      return session;
    })();
    ready.catch((error) => {
      ready = null;
      ui.status(error.message);
    });
    return ready;
  }

  async function loadHistory() {
    const { messages } = await call('/messages');
    for (const message of messages) ui.add(message);
    return messages;
  }

  // Server-Sent Events over fetch, so the session token travels in a header.
  async function connect() {
    if (live) return;
    const controller = new AbortController();
    live = controller;
    try {
      const response = await fetch(`${apiBase}/events`, {
        headers: { authorization: `Bearer ${session.token}` },
        signal: controller.signal,
      });
      // An expired session: the reconnect below starts a fresh one.
      if (response.status === 401) ready = null;
      if (!response.ok || !response.body) throw new Error(String(response.status));
      retryMs = 1000;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          dispatch(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // Dropped or refused: fall through to the reconnect below.
    }
    if (live !== controller) return;
    live = null;
    setTimeout(async () => {
      retryMs = Math.min(retryMs * 2, 30_000);
      try {
        await start();
        // Replies that arrived while disconnected are in the history.
        await loadHistory();
      } catch {
        // The next reconnect tries again.
      }
      connect();
    }, retryMs);
  }

  function dispatch(frame) {
    let event = 'message';
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (event !== 'message' || !data) return;
    try {
      ui.add({ ...JSON.parse(data), from: 'agent' });
    } catch {
      // A frame we cannot read is skipped; the history has it.
    }
  }

  // ---- UI ----------------------------------------------------------------
  const CSS = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }
.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; border: 0; border-radius: 999px;
  padding: 12px 18px; font-size: 15px; color: #fff; background: var(--accent); cursor: pointer;
  box-shadow: 0 4px 16px rgba(0,0,0,.2); }
.launcher:focus-visible, button:focus-visible, textarea:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.panel { position: fixed; right: 20px; bottom: 80px; z-index: 2147483001; width: 360px; height: 520px;
  max-height: calc(100vh - 100px); display: flex; flex-direction: column; background: #fff; color: #111827;
  border-radius: 12px; box-shadow: 0 8px 32px rgba(0,0,0,.25); overflow: hidden; }
.panel[hidden], .launcher[hidden], .notice[hidden] { display: none; }
header { display: flex; align-items: center; justify-content: space-between; padding: 12px 14px; background: var(--accent); color: #fff; }
h2 { margin: 0; font-size: 16px; font-weight: 600; }
.close { border: 0; background: transparent; color: #fff; font-size: 22px; line-height: 1; cursor: pointer; padding: 4px 8px; }
.notice { margin: 0; padding: 8px 14px; font-size: 13px; background: #fef3c7; color: #713f12; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f9fafb; }
.msg { max-width: 80%; padding: 8px 12px; border-radius: 12px; font-size: 14px; line-height: 1.45; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.agent { align-self: flex-start; background: #fff; border: 1px solid #e5e7eb; }
.msg.buyer { align-self: flex-end; background: var(--accent); color: #fff; }
.msg.greeting { align-self: flex-start; background: #fff; border: 1px dashed #d1d5db; color: #374151; }
.meta { display: block; font-size: 11px; opacity: .75; margin-top: 2px; }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; }
textarea { flex: 1; resize: none; height: 44px; padding: 10px; font-size: 15px; border: 1px solid #d1d5db; border-radius: 8px; color: #111827; background: #fff; }
.send { border: 0; border-radius: 8px; padding: 0 16px; font-size: 15px; color: #fff; background: var(--accent); cursor: pointer; }
.status { min-height: 0; padding: 0 12px 6px; font-size: 12px; color: #b91c1c; }
@media (max-width: 480px) {
  .panel { inset: 0; width: 100vw; height: 100%; max-height: none; border-radius: 0; }
}`;

  const ui = (() => {
    const host = document.createElement('div');
    host.setAttribute('data-seatmate', '');
    const root = host.attachShadow({ mode: 'open' });
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === 'function') {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement('style');
      style.textContent = CSS;
      root.append(style);
    }
    const make = (tag, attrs = {}, text) => {
      const el = document.createElement(tag);
      for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
      if (text !== undefined) el.textContent = text;
      return el;
    };
    const launcher = make(
      'button',
      { type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'sm-panel' },
      t.open,
    );
    const panel = make('section', {
      id: 'sm-panel',
      class: 'panel',
      role: 'dialog',
      'aria-labelledby': 'sm-title',
      lang: locale,
    });
    panel.hidden = true;
    const title = make('h2', { id: 'sm-title' }, t.title);
    const close = make('button', { type: 'button', class: 'close', 'aria-label': t.close }, '×');
    const header = make('header');
    header.append(title, close);
    const notice = make('p', { class: 'notice', role: 'note' }, t.offline);
    notice.hidden = true;
    const log = make('div', { class: 'log', role: 'log', 'aria-live': 'polite' });
    const greeting = make('div', { class: 'msg greeting' }, t.empty);
    log.append(greeting);
    const status = make('div', { class: 'status', role: 'status' });
    const form = make('form');
    const input = make('textarea', {
      'aria-label': t.placeholder,
      placeholder: t.placeholder,
      maxlength: '2000',
      rows: '1',
    });
    const sendButton = make('button', { type: 'submit', class: 'send' }, t.send);
    form.append(input, sendButton);
    panel.append(header, notice, log, status, form);
    root.append(launcher, panel);
    host.style.setProperty('--accent', '#0f766e');

    const time = (iso) =>
      new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

    function add(message) {
      if (shown.has(message.id)) return null;
      shown.add(message.id);
      const el = make('div', { class: `msg ${message.from}`, 'data-id': message.id });
      el.append(document.createTextNode(message.text));
      const meta = make(
        'span',
        { class: 'meta' },
        `${message.from === 'buyer' ? t.you : t.shop} · ${time(message.at)}`,
      );
      el.append(meta);
      log.append(el);
      log.scrollTop = log.scrollHeight;
      if (message.from === 'agent') {
        for (const fn of listeners.message) {
          try {
            fn({ id: message.id, text: message.text, at: message.at });
          } catch {
            // A shop's listener must not break the widget.
          }
        }
      }
      return { el, meta };
    }

    function setOpen(open) {
      panel.hidden = !open;
      launcher.setAttribute('aria-expanded', String(open));
      if (open) {
        input.focus();
        start()
          .then(async () => {
            await loadHistory();
            connect();
          })
          .catch(() => {});
      } else launcher.focus();
    }

    launcher.addEventListener('click', () => setOpen(panel.hidden));
    close.addEventListener('click', () => setOpen(false));
    panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') setOpen(false);
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      api.send(text).catch(() => {});
    });

    (document.body || document.documentElement).append(host);
    return {
      add,
      setOpen,
      status(text) {
        status.textContent = text || '';
      },
      applyShop(shop, agentsAvailable) {
        title.textContent = shop.name || t.title;
        if (shop.greeting) greeting.textContent = shop.greeting;
        if (shop.color) host.style.setProperty('--accent', shop.color);
        notice.hidden = agentsAvailable;
      },
    };
  })();

  function newId() {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  const api = {
    version: 1,
    open: () => ui.setOpen(true),
    close: () => ui.setOpen(false),
    /** Sends a buyer message; resolves with its id, rejects with a SeatmateError saying why. */
    async send(text) {
      const clean = String(text ?? '').trim();
      if (!clean || clean.length > 2000)
        throw new WidgetError('invalid_request', t.errors.invalid_request, 400);
      const clientMessageId = newId();
      const pending = ui.add({
        id: `wm_${clientMessageId}`,
        from: 'buyer',
        text: clean,
        at: new Date().toISOString(),
      });
      if (pending) pending.meta.textContent = t.sending;
      try {
        await start();
        const accepted = await call('/messages', {
          method: 'POST',
          body: JSON.stringify({ text: clean, clientMessageId }),
        });
        store.set({ token: session.token, hadConversation: true });
        if (pending)
          pending.meta.textContent = `${t.you} · ${new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(new Date(accepted.at))}`;
        ui.status('');
        connect();
        return { id: accepted.id, at: accepted.at };
      } catch (error) {
        if (pending) pending.meta.textContent = `${t.failed} · ${error.message}`;
        ui.status(error.message);
        throw error;
      }
    },
    on(event, fn) {
      if (!listeners[event] || typeof fn !== 'function')
        throw new TypeError('Seatmate.on(event, fn): event must be "message"');
      listeners[event].add(fn);
      return () => listeners[event].delete(fn);
    },
    async history() {
      await start();
      const messages = await loadHistory();
      return messages.map((m) => ({ id: m.id, from: m.from, text: m.text, at: m.at }));
    },
    async setContext(context) {
      await start();
      await call('/context', { method: 'POST', body: JSON.stringify(context ?? {}) });
    },
  };
  window.Seatmate = api;
  start().catch(() => {});
})();
