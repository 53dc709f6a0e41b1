// The agent console: one page, no framework. Buyer text is untrusted, so the
// DOM is only ever built with createElement + textContent, never innerHTML.
// Every word on the page comes from the locale's catalog (../i18n).

import { chosenLocale, languageSwitch, loadI18n } from '/i18n/i18n.js';
import { beep, notificationsSupported, notify, setTitleCount } from './alerts.js';
import { openEventStream } from './event-stream.js';
import { fillPhrase, filterPhrases, slashQuery } from './quick-phrases.js';
import { sessionStore } from './session-store.js';

const TOKEN_KEY = 'seatmate.agentToken';
const SOUND_KEY = 'seatmate.sound';
const NOTIFY_ASKED_KEY = 'seatmate.notificationsAsked';

/** Generic shops say which marketplace they bridge; every other platform is its own badge. */
const BADGE_KINDS = new Set([
  'whatsapp',
  'messenger',
  'line',
  'wechat',
  'telegram',
  'taobao',
  'tmall',
  'jd',
  'pinduoduo',
  'douyin',
  'shopify',
  'web',
]);

const MEDIA_TYPES = new Set(['image', 'audio', 'voice', 'video', 'file', 'sticker', 'location']);

const $ = (id) => document.getElementById(id);

/** Set once the catalog has loaded, before anything renders. */
let i18n;
const t = (key, vars) => i18n.t(key, vars);

const state = {
  token: null,
  me: null,
  /** conversationId -> summary as the API gives it, plus `seenAt` (performance.now() when fetched). */
  conversations: new Map(),
  selectedId: null,
  /** replyId -> {conversationId, text, status, error}: replies sent from this tab. */
  replies: new Map(),
  /** Closed conversations: a fetch that was in flight when one closed must not bring it back. */
  closed: new Set(),
  /** conversationIds that raised a slow-reply alert and were not opened since. */
  alerted: new Set(),
  /** The latest slow-reply alert shown in the banner: {conversationId, waitingSeconds, thresholdSeconds}. */
  alert: null,
  /** The suggestion being edited in the composer, so the reply counts as "edited". */
  editing: null,
  /** conversationId -> {fromName, note}: transfers received, shown until the conversation is answered. */
  transfers: new Map(),
  /** conversationId -> buyer context (orders, rating, earlier conversations, products). */
  contexts: new Map(),
  /** The agent's quick phrases (own and their shops'), loaded at sign-in. */
  phrases: [],
  picker: { open: false, items: [], index: 0 },
  stream: null,
  sound: localStorage.getItem(SOUND_KEY) !== 'off',
  /** Set after the first list load: buyers already waiting then are not "new". */
  listLoaded: false,
  /**
   * While a list load is on its way: the conversations a buyer wrote in meanwhile, and those
   * already alerted. The list may hold such a buyer as waiting already, so the event's own
   * refresh sees nothing new (or ran before the first list): the list's arrival alerts them.
   */
  listLoading: { active: false, wrote: new Set(), alerted: new Set() },
};

/** The tab's working state (open conversation, drafts) survives a reload; sign-out clears it. */
const session = sessionStore('seatmate.console');

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? '');
    this.status = status;
    this.code = body?.error?.code ?? null;
    this.details = body?.error?.details ?? {};
  }
}

/** What an agent reads for a failed call: the service's code in their language, else its status. */
function errorText(error) {
  if (error.code && i18n.has(`error.${error.code}`))
    return t(`error.${error.code}`, { name: error.details?.agentName ?? t('transfer.aColleague') });
  if (error instanceof ApiError) return t('error.status', { status: String(error.status) });
  return t('error.network');
}

async function api(path, { method = 'GET', body, headers: extra } = {}) {
  const headers = { authorization: `Bearer ${state.token}`, ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json().catch(() => null);
  if (response.status === 401 && state.me) {
    // The token was revoked while signed in: nothing else will work.
    signOut(t('signIn.revoked'));
  }
  if (!response.ok) throw new ApiError(response.status, payload);
  return payload;
}

// ---------------------------------------------------------------- sign in / out

async function signIn(token) {
  state.token = token;
  const button = $('sign-in-button');
  button.disabled = true;
  showSignInError(null);
  try {
    state.me = await api('/v1/agent/me');
  } catch (error) {
    // Another page's token: say which page it opens (an operator pasting theirs here is the usual case).
    const kind =
      error.status === 403
        ? await api('/v1/me').then(
            (me) => me.kind,
            () => null,
          )
        : null;
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showSignInError(
      error.status === 401
        ? t('signIn.unknownToken')
        : error.status === 403
          ? i18n.wrongPage(t('signIn.notAgent'), kind)
          : t('signIn.failed', { reason: errorText(error) }),
    );
    return;
  } finally {
    button.disabled = false;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token-input').value = '';
  $('agent-name').textContent = state.me.name;
  $('sign-in').hidden = true;
  $('workspace').hidden = false;
  renderPresence(presenceOf(state.me));
  renderAlertSettings();
  state.stream = connectEvents();
  void refreshStats();
  void loadPhrases();
  // The conversation that was open before a reload opens again (once the list has it).
  state.selectedId = session.selected;
}

function signOut(message) {
  state.stream?.stop();
  state.stream = null;
  sessionStorage.removeItem(TOKEN_KEY);
  session.clear();
  Object.assign(state, {
    token: null,
    me: null,
    selectedId: null,
    editing: null,
    alert: null,
    phrases: [],
    listLoaded: false,
  });
  for (const collection of [
    state.conversations,
    state.replies,
    state.alerted,
    state.closed,
    state.transfers,
    state.contexts,
  ])
    collection.clear();
  $('workspace').hidden = true;
  $('sign-in').hidden = false;
  document.body.classList.remove('show-conversation');
  $('conversation-list').replaceChildren();
  renderAlert();
  closePicker();
  $('composer-text').value = '';
  updateTitle();
  showSignInError(message ?? null);
  $('token-input').focus();
}

/** `message`: text, or nodes (a link to the page a pasted token belongs to). */
function showSignInError(message) {
  const node = $('sign-in-error');
  node.replaceChildren(...(Array.isArray(message) ? message : [message ?? '']));
  node.hidden = !message;
}

// ---------------------------------------------------------------- presence

function presenceOf(me) {
  return me?.presence?.status ?? me?.presence ?? me?.status ?? 'online';
}

function renderPresence(status) {
  const select = $('presence');
  // "offline" is what colleagues see once every stream of yours is closed; here you are connected.
  select.value = status === 'away' ? 'away' : 'online';
  select.dataset.status = select.value;
}

async function setPresence(status) {
  try {
    await api('/v1/agent/presence', { method: 'PUT', body: { status } });
    renderPresence(status);
    showNotice(t(status === 'away' ? 'presence.nowAway' : 'presence.nowOnline'));
  } catch (error) {
    renderPresence(presenceOf(state.me));
    showNotice(t('presence.failed', { reason: errorText(error) }));
  }
  if (state.me) state.me.presence = $('presence').value;
}

// ---------------------------------------------------------------- live events

function connectEvents() {
  return openEventStream({
    url: '/v1/agent/events',
    token: state.token,
    onEvent,
    onState(connection, resumed) {
      renderConnection(connection);
      // Load the list once the stream is open, so no event falls between the two; a resumed stream replays what it missed.
      if (connection === 'live' && !resumed) void refreshList();
    },
    onUnauthorized: () => signOut(t('signIn.revoked')),
  });
}

function renderConnection(connection) {
  const node = $('connection');
  node.dataset.state = connection;
  node.textContent = t(`connection.${connection}`);
}

/**
 * One handler per live event type, reading only the fields the typed event
 * map (src/agents/live-events.ts) declares; test/e2e/console-events.test.ts
 * checks the names below against it.
 */
const EVENT_HANDLERS = {
  message(data) {
    // A buyer writing again reopens a closed conversation.
    if (data.message?.from === 'buyer') {
      state.closed.delete(data.conversationId);
      if (state.listLoading.active) state.listLoading.wrote.add(data.conversationId);
    }
    void refreshConversation(data.conversationId);
  },
  suggestion(data) {
    void refreshConversation(data.conversationId);
  },
  conversation(data) {
    const id = data.conversationId;
    if (data.change === 'closed') return forget(id);
    const toMe = data.agentId === state.me?.id && data.fromAgentId !== state.me?.id;
    if (data.change === 'transferred' && toMe) {
      state.transfers.set(id, { fromName: data.fromAgentName ?? null, note: data.note ?? null });
      newBuyerAlert(id, 'transfer');
    } else if (data.change === 'assigned' && toMe && data.fromAgentId) {
      // A colleague went away or offline (or the buyer waited too long): their buyer is now yours.
      state.transfers.set(id, { handover: data.reason ?? null });
      newBuyerAlert(id, 'transfer');
    }
    void refreshConversation(id);
    if (data.change === 'answered') {
      state.transfers.delete(id);
      void refreshStats();
    }
  },
  reply(data) {
    onReplyStatus(data.replyId, data.status, data.error ?? null);
  },
  alert(data) {
    raiseAlert(data.conversationId, data.waitingSeconds, data.thresholdSeconds);
  },
  presence(data) {
    if (data.agentId === state.me?.id) renderPresence(data.status);
  },
  reset() {
    // Offline longer than the server keeps events: the server's list is the truth again.
    state.closed.clear();
    void refreshList();
  },
};

function onEvent(type, data) {
  EVENT_HANDLERS[type]?.(data);
}

// ---------------------------------------------------------------- data

async function refreshList() {
  const token = state.token;
  const loading = state.listLoading;
  const wasWaiting = new Set();
  for (const [id, summary] of state.conversations)
    if (summary.waiting && isForMe(summary)) wasWaiting.add(id);
  loading.active = true;
  try {
    const { conversations } = await api('/v1/agent/conversations');
    if (state.token !== token) return;
    const seenAt = performance.now();
    state.conversations.clear();
    for (const summary of conversations) {
      if (!state.closed.has(summary.conversationId))
        state.conversations.set(summary.conversationId, { ...summary, seenAt });
    }
    state.listLoaded = true;
    for (const id of loading.wrote) {
      const summary = state.conversations.get(id);
      if (summary?.waiting && isForMe(summary) && !wasWaiting.has(id) && !loading.alerted.has(id))
        newBuyerAlert(id, 'buyer');
    }
    if (state.selectedId && !state.conversations.has(state.selectedId)) {
      // The conversation open before a reload may be closed by now, or not in the list yet.
      await refreshConversation(state.selectedId);
      if (!state.conversations.has(state.selectedId)) state.selectedId = null;
    }
    select(state.selectedId, { keepComposer: true });
    // The list carries only the last few messages; the open conversation shows more.
    if (state.selectedId) void refreshConversation(state.selectedId);
  } catch (error) {
    console.warn('conversations not refreshed', error);
  } finally {
    loading.active = false;
    loading.wrote.clear();
    loading.alerted.clear();
  }
}

/** Coalesces bursts of events for one conversation into one fetch at a time. */
const inFlight = new Map();
function refreshConversation(id) {
  const running = inFlight.get(id);
  if (running) {
    running.again = true;
    return running.promise;
  }
  const entry = { again: false, promise: null };
  entry.promise = (async () => {
    try {
      do {
        entry.again = false;
        const token = state.token;
        const summary = await api(`/v1/agent/conversations/${encodeURIComponent(id)}`);
        // Signed out (or in as someone else), or closed, while this was in flight.
        if (state.token !== token || state.closed.has(id)) return;
        const before = state.conversations.get(id);
        state.conversations.set(id, { ...summary, seenAt: performance.now() });
        if (state.listLoaded && summary.waiting && !before?.waiting && isForMe(summary))
          newBuyerAlert(id, 'buyer');
        renderList();
        if (id === state.selectedId) renderConversation();
      } while (entry.again);
    } catch (error) {
      console.warn('conversation not refreshed', id, error);
    } finally {
      inFlight.delete(id);
    }
  })();
  inFlight.set(id, entry);
  return entry.promise;
}

function isForMe(summary) {
  return !summary.assignedTo || summary.assignedTo.agentId === state.me?.id;
}

async function refreshStats() {
  try {
    const stats = await api('/v1/agent/stats');
    $('figure-answered').textContent = i18n.number(stats.consultationsAnswered);
    $('figure-first-response').textContent =
      stats.averageFirstResponseSeconds === null
        ? '–'
        : i18n.duration(stats.averageFirstResponseSeconds);
    $('figure-rate').textContent =
      stats.within3MinRate === null ? '–' : i18n.percent(stats.within3MinRate, 0);
    $('figure-saved').textContent = i18n.duration(stats.typingSecondsSaved);
  } catch (error) {
    console.warn('figures not refreshed', error);
  }
}

async function loadPhrases() {
  try {
    const body = await api('/v1/agent/quick-phrases');
    state.phrases = body.phrases ?? body.quickPhrases ?? [];
  } catch (error) {
    state.phrases = [];
    console.warn('quick phrases not loaded', error);
  }
}

/** Orders, rating, earlier conversations and products, fetched when a conversation opens. */
async function loadContext(id) {
  try {
    const context = await api(`/v1/agent/conversations/${encodeURIComponent(id)}/context`);
    state.contexts.set(id, context);
  } catch (error) {
    state.contexts.set(id, { error: errorText(error) });
  }
  if (id === state.selectedId) renderContext();
}

function forget(id) {
  state.closed.add(id);
  state.conversations.delete(id);
  state.alerted.delete(id);
  state.transfers.delete(id);
  session.saveDraft(id, '');
  if (state.selectedId === id) select(null);
  renderList();
}

// ---------------------------------------------------------------- timers

function secondsWaiting(summary) {
  if (!summary.waiting) return 0;
  return summary.secondsWaiting + Math.floor((performance.now() - summary.seenAt) / 1000);
}

/** A clock for the waiting timers: "1:05", then "2:03:09" past an hour. */
function clock(totalSeconds) {
  const s = Math.max(0, Math.round(totalSeconds));
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, '0');
  if (s < 3600) return `${mm}:${ss}`;
  return `${Math.floor(s / 3600)}:${mm.padStart(2, '0')}:${ss}`;
}

/** Updates every timer in place once a second; re-rendering rows would lose focus and flicker. */
function tickTimers() {
  for (const node of document.querySelectorAll('[data-timer-for]')) {
    const summary = state.conversations.get(node.dataset.timerFor);
    if (summary) paintTimer(node, summary);
  }
}

function paintTimer(node, summary) {
  if (!summary.waiting) {
    node.textContent = t('timer.answered');
    node.className = 'timer is-answered';
    node.removeAttribute('aria-label');
    return;
  }
  const seconds = secondsWaiting(summary);
  const overdue = seconds >= summary.slowReplySeconds;
  node.textContent = clock(seconds);
  node.className = overdue ? 'timer is-waiting is-overdue' : 'timer is-waiting';
  node.setAttribute(
    'aria-label',
    overdue
      ? t('timer.overdueLabel', {
          waited: i18n.duration(seconds),
          limit: i18n.duration(summary.slowReplySeconds),
        })
      : t('timer.waitingLabel', { waited: i18n.duration(seconds) }),
  );
}

// ---------------------------------------------------------------- alerts

function raiseAlert(id, waitingSeconds, thresholdSeconds) {
  state.alerted.add(id);
  state.alert = { conversationId: id, waitingSeconds, thresholdSeconds };
  renderList();
  if (!state.conversations.has(id)) void refreshConversation(id);
}

function dismissAlert() {
  state.alert = null;
  renderAlert();
}

/** Re-rendered with the list: an alert can arrive before its conversation is loaded. */
function renderAlert() {
  const banner = $('alert-banner');
  banner.hidden = !state.alert;
  if (!state.alert) return;
  const { conversationId, waitingSeconds, thresholdSeconds } = state.alert;
  const summary = state.conversations.get(conversationId);
  // Buyer and shop each in a span of their own: one's bidi controls must not turn the other around.
  const who = summary ? el('span') : t('alert.aBuyer');
  if (summary)
    who.append(
      data('span', null, buyerLabel(summary)),
      ' · ',
      data('span', null, summary.shop.name),
    );
  $('alert-text').replaceChildren(
    ...i18n.nodes('alert.waited', {
      who,
      waited: i18n.duration(waitingSeconds),
      limit: i18n.duration(thresholdSeconds),
    }),
  );
}

let noticeTimer = null;
/** A passing message in the agent's language (presence changed, transfer sent...). */
function showNotice(...parts) {
  $('notice-text').replaceChildren(...parts);
  $('notice-banner').hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    $('notice-banner').hidden = true;
  }, 8000);
}

/** A new buyer is waiting (or a colleague handed one over): sound, desktop notification. */
function newBuyerAlert(id, kind) {
  if (state.listLoading.active) state.listLoading.alerted.add(id);
  if (state.sound) beep();
  const summary = state.conversations.get(id);
  const who = summary
    ? `${isolated(buyerLabel(summary))} · ${isolated(summary.shop.name)}`
    : t('alert.aBuyer');
  notify(
    t(kind === 'transfer' ? 'notify.transferTitle' : 'notify.newBuyerTitle'),
    kind === 'transfer' ? t('notify.transferBody', { who }) : t('notify.newBuyerBody', { who }),
    id,
    () => select(id),
  );
}

function renderAlertSettings() {
  const sound = $('sound-toggle');
  sound.setAttribute('aria-pressed', String(state.sound));
  sound.textContent = t(state.sound ? 'alerts.soundOn' : 'alerts.soundOff');
  $('notify-enable').hidden = !notificationsSupported() || Notification.permission !== 'default';
}

/** Asks for desktop notifications once, from a click (browsers ignore requests made without one). */
function askNotificationsOnce(force = false) {
  if (!notificationsSupported() || Notification.permission !== 'default') return;
  if (!force && localStorage.getItem(NOTIFY_ASKED_KEY)) return;
  localStorage.setItem(NOTIFY_ASKED_KEY, '1');
  void Notification.requestPermission().then(renderAlertSettings, renderAlertSettings);
}

function updateTitle() {
  const waiting = state.token
    ? [...state.conversations.values()].filter((c) => c.waiting && isForMe(c)).length
    : 0;
  setTitleCount(t('console.pageTitle'), waiting);
}

// ---------------------------------------------------------------- rendering

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** Text that comes from people (buyers, shops, agents), never to be translated. */
function data(tag, className, text) {
  const node = el(tag, className, text);
  node.translate = false;
  return node;
}

/**
 * People's text inside a plain string (a notification has no markup): between
 * FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE, so an RTL override in a
 * name cannot turn the words around it backwards.
 */
function isolated(text) {
  return `\u2068${text}\u2069`;
}

/** Platforms such as LINE give no buyer name, only a long opaque id: shorten it for the eye. */
function buyerLabel(summary) {
  const { name, id } = summary.buyer;
  if (name) return name;
  return id.length > 16 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id;
}

/** The badge: the marketplace a generic shop bridges (its channel), else the platform. */
function badgeKind(shop) {
  const kind = shop.platform === 'generic' ? (shop.channel ?? 'web') : shop.platform;
  return BADGE_KINDS.has(kind) ? kind : 'other';
}

function shopLabel(shop) {
  const label = el('span', 'shop-label');
  const kind = badgeKind(shop);
  const badge = el('span', `platform platform-${kind}`, t(`badge.${kind}`));
  badge.dataset.channel = kind;
  label.append(data('span', 'shop-name', shop.name), badge);
  return label;
}

function assigneeText(summary) {
  if (!summary.assignedTo) return t('assignee.unassigned');
  return summary.assignedTo.agentId === state.me?.id ? t('assignee.you') : null;
}

/** Waiting first, longest wait first; then the most recent activity (as the API orders them). */
function ordered() {
  return [...state.conversations.values()].sort((a, b) => {
    if (a.waiting !== b.waiting) return a.waiting ? -1 : 1;
    if (a.waiting) return secondsWaiting(b) - secondsWaiting(a);
    return (b.lastActivityAt ?? '').localeCompare(a.lastActivityAt ?? '');
  });
}

function renderList() {
  const list = $('conversation-list');
  const focusedId = list.contains(document.activeElement)
    ? document.activeElement.dataset.conversationId
    : null;
  const rows = ordered().map((summary) => {
    const id = summary.conversationId;
    const row = el('li', 'conversation-row');
    const button = el('button', 'row-button');
    button.type = 'button';
    button.dataset.conversationId = id;
    if (id === state.selectedId) button.setAttribute('aria-current', 'true');
    if (summary.waiting) row.classList.add('is-waiting');
    if (state.alerted.has(id)) row.classList.add('is-alerted');
    if (state.transfers.has(id)) row.classList.add('is-transferred');

    const top = el('span', 'row-top');
    top.append(data('span', 'row-buyer', buyerLabel(summary)));
    const timer = el('span', 'timer');
    timer.dataset.timerFor = id;
    paintTimer(timer, summary);
    top.append(timer);

    const last = summary.lastMessages.at(-1);
    const preview = data(
      'span',
      'row-preview',
      last ? `${last.from === 'agent' ? '↩ ' : ''}${messagePreview(last)}` : '',
    );

    const bottom = el('span', 'row-bottom');
    const mine = summary.assignedTo?.agentId === state.me?.id;
    const mark = assigneeText(summary);
    bottom.append(
      shopLabel(summary.shop),
      mark === null
        ? data('span', 'assignee is-other', summary.assignedTo.name)
        : el('span', `assignee ${mine ? 'is-mine' : 'is-free'}`, mark),
    );

    button.append(top, preview, bottom);
    button.setAttribute(
      'aria-label',
      t(summary.waiting ? 'list.rowWaitingLabel' : 'list.rowAnsweredLabel', {
        buyer: buyerLabel(summary),
        shop: summary.shop.name,
        waited: i18n.duration(secondsWaiting(summary)),
      }),
    );
    button.addEventListener('click', () => select(id));
    row.append(button);
    return row;
  });
  list.replaceChildren(...rows);
  // Rows are rebuilt on every change; an agent moving through them with the keyboard keeps their place.
  if (focusedId) list.querySelector(`[data-conversation-id="${CSS.escape(focusedId)}"]`)?.focus();
  $('list-empty').hidden = rows.length > 0;
  const waiting = [...state.conversations.values()].filter((c) => c.waiting).length;
  $('waiting-count').textContent = t('list.waitingCount', { count: waiting });
  updateTitle();
  renderAlert();
}

/**
 * Opens a conversation (null: back to the list). The composer's draft is
 * kept per conversation: switching away saves it, switching back restores it.
 */
function select(id, { keepComposer = false } = {}) {
  if (id !== state.selectedId || keepComposer) {
    if (!keepComposer && state.selectedId) saveDraft();
    const draft = id ? session.draft(id) : null;
    $('composer-text').value = draft?.text ?? '';
    setEditing(draft?.editing ?? null);
    closePicker();
    $('reply-status').textContent = '';
    $('reply-status').dataset.status = '';
  }
  state.selectedId = id;
  session.selected = id;
  if (id) {
    state.alerted.delete(id);
    if (state.alert?.conversationId === id) state.alert = null;
    document.body.classList.add('show-conversation');
    void refreshConversation(id);
    // A context that failed to load (the service was briefly away) is asked for again.
    if (!state.contexts.has(id) || state.contexts.get(id).error) void loadContext(id);
  } else {
    document.body.classList.remove('show-conversation');
  }
  renderList();
  renderConversation();
}

function saveDraft() {
  if (!state.selectedId) return;
  session.saveDraft(state.selectedId, $('composer-text').value, state.editing);
}

/**
 * The composer's remaining length against the conversation's platform limit
 * (replyLimit from the API: WhatsApp 4,096 characters, WeChat 2,048 bytes...),
 * counted as the service counts it. Past the limit Send is refused here,
 * before the service would refuse it.
 */
function replyOverflow() {
  const summary = state.selectedId ? state.conversations.get(state.selectedId) : null;
  const limit = summary?.replyLimit;
  if (!limit) return null;
  const text = $('composer-text').value.trim();
  const used = limit.unit === 'bytes' ? new TextEncoder().encode(text).length : text.length;
  return { limit, remaining: limit.max - used };
}

function updateRemaining() {
  const node = $('reply-remaining');
  const overflow = replyOverflow();
  node.hidden = !overflow;
  if (!overflow) return;
  const { limit, remaining } = overflow;
  const bytes = limit.unit === 'bytes';
  node.dataset.remaining = String(remaining);
  node.classList.toggle('is-over', remaining < 0);
  node.classList.toggle('is-near', remaining >= 0 && remaining < limit.max / 10);
  node.textContent =
    remaining >= 0
      ? t(bytes ? 'composer.remainingBytes' : 'composer.remaining', { count: remaining })
      : t(bytes ? 'composer.overBytes' : 'composer.over', { count: -remaining });
  $('send').disabled = remaining < 0;
}

function renderConversation() {
  const summary = state.selectedId ? state.conversations.get(state.selectedId) : null;
  $('conversation-empty').hidden = Boolean(summary);
  $('conversation-body').hidden = !summary;
  if (!summary) return;
  updateRemaining();

  $('buyer-name').textContent = buyerLabel(summary);
  $('conversation-shop').replaceWith(
    Object.assign(shopLabel(summary.shop), { id: 'conversation-shop' }),
  );
  const stage = $('conversation-stage');
  stage.textContent = summary.stage ? t(`stage.${summary.stage}`) : '';
  stage.hidden = !summary.stage;

  const timer = $('conversation-timer');
  timer.dataset.timerFor = summary.conversationId;
  paintTimer(timer, summary);

  const mine = summary.assignedTo?.agentId === state.me?.id;
  const assignee = $('conversation-assignee');
  assignee.className = `assignee ${mine ? 'is-mine' : summary.assignedTo ? 'is-other' : 'is-free'}`;
  assignee.replaceChildren(
    ...(mine
      ? [t('assignee.assignedToYou')]
      : summary.assignedTo
        ? i18n.nodes('assignee.answering', { name: data('span', null, summary.assignedTo.name) })
        : [t('assignee.unassigned')]),
  );
  $('claim').hidden = mine;
  $('transfer-open').hidden = !mine;

  const transfer = state.transfers.get(summary.conversationId);
  const note = $('transfer-note');
  note.hidden = !transfer;
  if (transfer && 'handover' in transfer) {
    note.replaceChildren(
      t(
        i18n.has(`handover.${transfer.handover}`)
          ? `handover.${transfer.handover}`
          : 'handover.other',
      ),
    );
  } else if (transfer) {
    const name = transfer.fromName
      ? data('span', null, transfer.fromName)
      : t('transfer.aColleague');
    note.replaceChildren(
      ...(transfer.note
        ? i18n.nodes('transfer.receivedWithNote', {
            name,
            note: data('span', 'transfer-note-text', transfer.note),
          })
        : i18n.nodes('transfer.received', { name })),
    );
  }

  renderMessages(summary);
  renderSuggestions(summary);
  renderContext();
}

function renderMessages(summary) {
  const list = $('messages');
  // Follow new messages unless the agent scrolled up to read; a newly opened conversation starts at the end.
  const opened = list.dataset.conversationId !== summary.conversationId;
  const stuckToBottom = opened || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.dataset.conversationId = summary.conversationId;
  const shown = new Set(summary.lastMessages.map((m) => m.id));
  // Replies still queued or refused, also those sent before this page loaded.
  for (const reply of summary.undeliveredReplies ?? []) {
    if (!state.replies.has(reply.replyId)) {
      state.replies.set(reply.replyId, {
        conversationId: summary.conversationId,
        text: reply.text,
        status: reply.status,
        error: reply.error,
        agentName: reply.agentName,
      });
    }
  }
  const items = summary.lastMessages.map((message) =>
    messageItem(summary, message, state.replies.get(message.id)?.status === 'sent' ? 'sent' : null),
  );
  // Replies from this tab not in the history yet: queued, refused, or sent a moment before the refetch.
  for (const [replyId, reply] of state.replies) {
    if (reply.conversationId !== summary.conversationId || reply.inHistory) continue;
    if (shown.has(replyId)) {
      // Once the history holds it, it is the history's to show, even after it scrolls out of the last 50.
      reply.inHistory = true;
      continue;
    }
    const item = messageItem(
      summary,
      { from: 'agent', text: reply.text, agentName: reply.agentName ?? state.me?.name },
      reply.status,
      reply.error,
    );
    item.dataset.replyId = replyId;
    items.push(item);
  }
  list.replaceChildren(...items);
  if (stuckToBottom) list.scrollTop = list.scrollHeight;
}

/** The kind of media a message carries, or null for plain text. */
function mediaOf(message) {
  const type = message.media?.kind ?? message.media?.type ?? message.type;
  if (!type || type === 'text') return null;
  return { type: MEDIA_TYPES.has(type) ? (type === 'voice' ? 'audio' : type) : 'other' };
}

/** A typed message's text is only the service's placeholder ("[image] red?"): its caption, file name or place says more. */
function mediaDetail(message) {
  if (message.media?.kind === undefined) return message.text;
  return message.media.caption || message.media.fileName || message.media.label || '';
}

function messagePreview(message) {
  const media = mediaOf(message);
  if (!media) return message.text;
  const detail = mediaDetail(message);
  return `[${t(`media.${media.type}`)}]${detail ? ` ${detail}` : ''}`;
}

function messageItem(summary, message, status, error) {
  const from = message.from === 'agent' ? 'agent' : 'buyer';
  const item = el('li', `message from-${from}`);
  const media = mediaOf(message);
  if (media) {
    const box = el('div', `bubble media media-${media.type}`);
    box.append(el('span', 'media-label', t(`media.${media.type}`)));
    const caption =
      mediaDetail(message) ||
      message.media?.caption ||
      message.media?.fileName ||
      message.media?.label ||
      '';
    if (caption) box.append(data('span', 'media-caption', caption));
    const { latitude, longitude } = message.media ?? {};
    if (typeof latitude === 'number' && typeof longitude === 'number')
      box.append(
        el(
          'span',
          'media-coordinates',
          `${i18n.number(latitude, { maximumFractionDigits: 5 })}, ${i18n.number(longitude, { maximumFractionDigits: 5 })}`,
        ),
      );
    if (media.type === 'image' || media.type === 'sticker')
      attachThumbnail(box, summary.conversationId, message);
    else if (media.type === 'audio' || media.type === 'video' || media.type === 'file')
      attachOpener(box, summary.conversationId, message, media.type);
    item.append(box);
  } else {
    item.append(data('p', 'bubble', message.text));
  }
  const meta = el('span', 'message-meta');
  if (message.stale) {
    item.classList.add('is-stale');
    meta.append(el('span', 'stale-mark', t('messages.stale')), ' ');
  }
  if (from === 'agent' && message.agentName) meta.append(data('span', null, message.agentName));
  if (message.at) {
    if (meta.childNodes.length) meta.append(' · ');
    meta.append(i18n.time(message.at));
  }
  if (status) {
    meta.append(
      el(
        'span',
        `delivery is-${status}`,
        status === 'queued'
          ? t('delivery.queued')
          : status === 'sent'
            ? t('delivery.sent')
            : t('delivery.failed', { reason: error ?? t('delivery.notDelivered') }),
      ),
    );
  }
  item.append(meta);
  return item;
}

/** A message whose file the media proxy can fetch (a LINE sticker or a location has none). */
function fetchable(message) {
  if (!message.id || message.media?.thumbnail === false) return false;
  return message.media?.kind === undefined || typeof message.media.ref === 'string';
}

function mediaUrl(conversationId, message) {
  return `/v1/agent/conversations/${encodeURIComponent(conversationId)}/media/${encodeURIComponent(message.id)}`;
}

/**
 * Voice, video and files load only when the agent asks (they can be large):
 * through the media proxy with the agent's token, then played in place or saved.
 */
function attachOpener(box, conversationId, message, type) {
  if (!fetchable(message)) return;
  const button = el('button', 'button small media-open', t('media.open'));
  button.type = 'button';
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const response = await fetch(mediaUrl(conversationId, message), {
        headers: { authorization: `Bearer ${state.token}` },
      });
      if (!response.ok) throw new Error(String(response.status));
      const url = URL.createObjectURL(await response.blob());
      const mime = response.headers.get('content-type') ?? '';
      if (
        (type === 'audio' && mime.startsWith('audio/')) ||
        (type === 'video' && mime.startsWith('video/'))
      ) {
        const player = el(type, `media-player media-player-${type}`);
        player.controls = true;
        player.src = url;
        button.replaceWith(player);
        return;
      }
      const link = el('a', 'media-download');
      link.href = url;
      link.download = message.media?.fileName || '';
      link.click();
      button.disabled = false;
    } catch {
      button.replaceWith(el('span', 'media-unavailable', t('media.unavailable')));
    }
  });
  box.append(button);
}

/** Thumbnails come through the service's media proxy with the agent's token, so never as a bare URL. */
const thumbnails = new Map();
function attachThumbnail(box, conversationId, message) {
  if (!fetchable(message)) return;
  const key = `${conversationId}/${message.id}`;
  const image = el('img', 'media-thumb');
  image.alt = t(`media.${mediaOf(message).type}`);
  image.hidden = true;
  box.prepend(image);
  let url = thumbnails.get(key);
  if (url === undefined) {
    url = fetch(mediaUrl(conversationId, message), {
      headers: { authorization: `Bearer ${state.token}` },
    })
      .then(async (response) =>
        response.ok && (response.headers.get('content-type') ?? '').startsWith('image/')
          ? URL.createObjectURL(await response.blob())
          : null,
      )
      .catch(() => null);
    thumbnails.set(key, url);
  }
  void url.then((src) => {
    if (!src) return;
    image.src = src;
    image.hidden = false;
  });
}

function renderSuggestions(summary) {
  const items = summary.suggestions.map((suggestion, index) => {
    const item = el('li', 'suggestion');
    item.dataset.suggestionId = suggestion.id;
    const tactic = t(`tactic.${suggestion.tactic}`);
    const head = el('div', 'suggestion-head');
    if (index < 3) head.append(el('kbd', 'shortcut-key', String(index + 1)));
    head.append(el('span', `tactic tactic-${suggestion.tactic}`, tactic));
    const text = data('p', 'suggestion-text', suggestion.text);
    const actions = el('div', 'suggestion-actions');
    const send = el('button', 'button primary small', t('suggestions.send'));
    send.type = 'button';
    send.setAttribute('aria-label', t('suggestions.sendLabel', { tactic }));
    send.addEventListener('click', () => sendReply(suggestion.text, suggestion.id));
    const edit = el('button', 'button small ghost', t('suggestions.edit'));
    edit.type = 'button';
    edit.setAttribute('aria-label', t('suggestions.editLabel', { tactic }));
    edit.addEventListener('click', () => editSuggestion(suggestion));
    actions.append(send, edit);
    item.append(head, text, actions);
    return item;
  });
  $('suggestion-list').replaceChildren(...items);
  $('suggestions-empty').hidden = items.length > 0;
}

function editSuggestion(suggestion) {
  $('composer-text').value = suggestion.text;
  updateRemaining();
  setEditing(suggestion);
  saveDraft();
  $('composer-text').focus();
}

function setEditing(suggestion) {
  state.editing = suggestion ? { id: suggestion.id, tactic: suggestion.tactic } : null;
  $('editing-note').hidden = !suggestion;
  $('editing-text').textContent = suggestion
    ? t('composer.editing', { tactic: t(`tactic.${suggestion.tactic}`) })
    : '';
}

function renderContext() {
  const body = $('context-body');
  const id = state.selectedId;
  const context = id ? state.contexts.get(id) : null;
  if (!context) {
    body.replaceChildren(el('p', 'empty small', t('context.loading')));
    return;
  }
  if (context.error) {
    body.replaceChildren(el('p', 'empty small', t('context.failed', { reason: context.error })));
    return;
  }
  const summary = state.conversations.get(id);
  const timeZone = context.timezone ?? summary?.shop?.timezone;
  const section = (key, items, render) => {
    const block = el('section', `context-block context-${key}`);
    block.append(el('h4', null, t(`context.${key}`)));
    if (!items.length) block.append(el('p', 'empty small', t(`context.${key}None`)));
    else {
      const list = el('ul', 'context-list');
      list.append(...items.map(render));
      block.append(list);
    }
    return block;
  };
  const orders = context.orders ?? [];
  const earlier = context.earlierConversations ?? context.conversations ?? [];
  const products = context.products ?? context.mentionedProducts ?? [];
  const rating = context.rating ?? null;
  const ratingBlock = el('section', 'context-block context-rating');
  ratingBlock.append(el('h4', null, t('context.rating')));
  ratingBlock.append(
    rating === null || rating === undefined
      ? el('p', 'empty small', t('context.ratingNone'))
      : el('p', 'rating', t('context.ratingValue', { score: i18n.number(rating.score ?? rating) })),
  );
  const ordersBlock = section('orders', orders, (order) => {
    const item = el('li', 'context-order');
    item.append(
      data('span', 'order-id', order.orderId ?? order.id),
      el('span', 'order-amount', i18n.money(order.amountFen)),
      el(
        'span',
        'order-paid',
        order.paidAt ? i18n.dateTime(order.paidAt, timeZone) : t('context.unpaid'),
      ),
    );
    return item;
  });
  if (orders.length && typeof context.totalPaidFen === 'number') {
    ordersBlock.append(
      el(
        'p',
        'orders-total',
        t('context.ordersTotal', {
          count: i18n.number(context.orderCount ?? orders.length),
          total: i18n.money(context.totalPaidFen),
        }),
      ),
    );
  }
  body.replaceChildren(
    ordersBlock,
    ratingBlock,
    section('earlier', earlier, (conversation) => {
      const item = el('li', 'earlier-conversation');
      const at = conversation.startedAt ?? conversation.closedAt ?? conversation.lastMessage?.at;
      const when = at ? i18n.dateTime(at, timeZone) : '';
      item.append(
        el(
          'span',
          'earlier-at',
          typeof conversation.messageCount === 'number'
            ? t('context.earlierMeta', { when, count: i18n.number(conversation.messageCount) })
            : when,
        ),
      );
      if (conversation.lastMessage?.text)
        item.append(data('span', 'earlier-text', messagePreview(conversation.lastMessage)));
      return item;
    }),
    section('products', products, (product) => data('li', 'context-product', product.name)),
    ...(context.page ? [pageBlock(context.page, timeZone)] : []),
  );
}

/** The storefront page the buyer is on (web shops' widget), as text; the link opens in a new tab. */
function pageBlock(page, timeZone) {
  const block = el('section', 'context-block context-page');
  block.append(el('h4', null, t('context.page')));
  if (page.productName || page.productId)
    block.append(data('p', 'page-product', page.productName ?? page.productId));
  if (page.url && /^https?:\/\//i.test(page.url)) {
    const link = data('a', 'page-url', page.url);
    link.href = page.url;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    block.append(link);
  }
  block.append(el('p', 'small', t('context.pageAt', { when: i18n.dateTime(page.at, timeZone) })));
  return block;
}

// ---------------------------------------------------------------- actions

let sending = false;
/**
 * The send whose answer never came (the network failed): sending the same text to the same
 * conversation again reuses its Idempotency-Key, so a send that did reach the service is
 * not given to the buyer twice.
 */
let unanswered = null;

/** A random key; crypto.randomUUID needs https, which a desk on a LAN address may not have. */
function newKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
}

async function sendReply(text, suggestionId) {
  const id = state.selectedId;
  const status = $('reply-status');
  // A double click must not send the buyer the same answer twice.
  if (!id || !text.trim() || sending) return;
  sending = true;
  status.dataset.status = 'sending';
  status.textContent = t('delivery.sending');
  const key = unanswered?.id === id && unanswered.text === text ? unanswered.key : newKey();
  unanswered = { id, text, key };
  try {
    const body = suggestionId ? { text, suggestionId } : { text };
    const reply = await api(`/v1/agent/conversations/${encodeURIComponent(id)}/replies`, {
      method: 'POST',
      body,
      headers: { 'idempotency-key': key },
    });
    unanswered = null;
    // An event may already have reported it (the worker is fast): keep the later status.
    const known = state.replies.get(reply.replyId);
    state.replies.set(reply.replyId, {
      conversationId: id,
      text,
      status: known?.status ?? reply.status,
      error: known?.error ?? null,
    });
    showReplyStatus(reply.replyId);
    if (known?.status === 'sent') {
      void refreshConversation(id);
      void refreshStats();
    }
    if ($('composer-text').value === text || suggestionId === state.editing?.id) {
      $('composer-text').value = '';
      updateRemaining();
      setEditing(null);
      session.saveDraft(id, '');
    }
    renderConversation();
    void followReply(id, reply.replyId);
  } catch (error) {
    // The service refused it (a 4xx): nothing was queued, so the next send is a new one. A 5xx
    // or a lost answer may have queued it: the next send of the same text keeps the key.
    if (error instanceof ApiError && error.status < 500 && error.code !== 'reply_in_progress')
      unanswered = null;
    status.dataset.status = 'failed';
    status.textContent =
      error.code === 'conversation_taken'
        ? errorText(error)
        : t('delivery.notSent', { reason: errorText(error) });
  } finally {
    sending = false;
  }
}

/** A fallback for when the event stream is down: poll until the reply leaves the queue. */
async function followReply(conversationId, replyId) {
  for (let attempt = 0; attempt < 30; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const reply = state.replies.get(replyId);
    if (reply?.status !== 'queued' || !state.token) return;
    try {
      const latest = await api(
        `/v1/agent/conversations/${encodeURIComponent(conversationId)}/replies/${encodeURIComponent(replyId)}`,
      );
      if (latest.status !== 'queued') onReplyStatus(replyId, latest.status, latest.error);
    } catch {
      // Try again on the next round; the event stream may report it first.
    }
  }
}

function onReplyStatus(replyId, status, error) {
  const reply = state.replies.get(replyId);
  if (!reply) {
    // Sent from another tab, or the event beat the POST response: remember the outcome.
    state.replies.set(replyId, { conversationId: null, text: '', status, error });
    return;
  }
  if (reply.status === status) return;
  Object.assign(reply, { status, error });
  showReplyStatus(replyId);
  if (status === 'sent') {
    state.transfers.delete(reply.conversationId);
    void refreshConversation(reply.conversationId);
    void refreshStats();
  } else if (reply.conversationId === state.selectedId) {
    renderConversation();
  }
}

function showReplyStatus(replyId) {
  const reply = state.replies.get(replyId);
  if (!reply || reply.conversationId !== state.selectedId) return;
  const status = $('reply-status');
  status.dataset.status = reply.status;
  status.dataset.replyId = replyId;
  status.textContent =
    reply.status === 'queued'
      ? t('reply.queued')
      : reply.status === 'sent'
        ? t('reply.sent')
        : t('delivery.failed', { reason: reply.error ?? t('delivery.refused') });
}

function showActionError(error) {
  $('reply-status').dataset.status = 'failed';
  $('reply-status').textContent = errorText(error);
}

async function claimSelected() {
  const id = state.selectedId;
  if (!id) return;
  try {
    await api(`/v1/agent/conversations/${encodeURIComponent(id)}/claim`, { method: 'POST' });
    await refreshConversation(id);
  } catch (error) {
    showActionError(error);
  }
}

async function closeSelected() {
  const id = state.selectedId;
  if (!id) return;
  // The newest buyer message on screen: one that arrives as the agent clicks keeps it open.
  const seenBuyerAt = (state.conversations.get(id)?.lastMessages ?? [])
    .filter((message) => message.from === 'buyer')
    .map((message) => message.at)
    .sort()
    .at(-1);
  try {
    await api(`/v1/agent/conversations/${encodeURIComponent(id)}/close`, {
      method: 'POST',
      body: seenBuyerAt ? { seenBuyerAt } : {},
    });
    forget(id);
  } catch (error) {
    showActionError(error);
    if (error.code === 'buyer_wrote_again') void refreshConversation(id);
  }
}

// ---------------------------------------------------------------- transfer

async function openTransfer() {
  const summary = state.selectedId ? state.conversations.get(state.selectedId) : null;
  if (!summary) return;
  const dialog = $('transfer-dialog');
  const select = $('transfer-to');
  $('transfer-error').hidden = true;
  $('transfer-note-input').value = '';
  select.replaceChildren();
  let colleagues = [];
  try {
    colleagues = await loadColleagues(summary.shop.id);
  } catch (error) {
    $('transfer-error').textContent = errorText(error);
    $('transfer-error').hidden = false;
  }
  for (const colleague of colleagues) {
    const option = data('option', null, colleague.name);
    option.value = colleague.id;
    select.append(option);
  }
  $('transfer-none').hidden = colleagues.length > 0;
  select.hidden = colleagues.length === 0;
  $('transfer-confirm').disabled = colleagues.length === 0;
  dialog.showModal();
  (colleagues.length ? select : $('transfer-cancel')).focus();
}

/** Online colleagues of the conversation's shop, not me. */
async function loadColleagues(shopId) {
  const body = await api(`/v1/agent/colleagues?shopId=${encodeURIComponent(shopId)}`);
  return (body.colleagues ?? body.agents ?? [])
    .map((c) => ({ ...c, id: c.agentId ?? c.id }))
    .filter((c) => c.id !== state.me?.id)
    .filter((c) => !c.shopIds || c.shopIds.includes(shopId))
    .filter((c) => (c.presence?.status ?? c.presence ?? c.status ?? 'online') === 'online');
}

async function confirmTransfer() {
  const id = state.selectedId;
  const toAgentId = $('transfer-to').value;
  if (!id || !toAgentId) return;
  const note = $('transfer-note-input').value.trim();
  $('transfer-confirm').disabled = true;
  try {
    await api(`/v1/agent/conversations/${encodeURIComponent(id)}/transfer`, {
      method: 'POST',
      body: note ? { toAgentId, note } : { toAgentId },
    });
    const name = $('transfer-to').selectedOptions[0]?.textContent ?? '';
    $('transfer-dialog').close();
    showNotice(...i18n.nodes('transfer.done', { name: data('span', null, name) }));
    await refreshConversation(id);
  } catch (error) {
    $('transfer-error').textContent = errorText(error);
    $('transfer-error').hidden = false;
  } finally {
    $('transfer-confirm').disabled = false;
  }
}

// ---------------------------------------------------------------- quick phrases

/** Phrases usable in the open conversation: the agent's own and those of its shop. */
function phrasesForSelected() {
  const summary = state.selectedId ? state.conversations.get(state.selectedId) : null;
  return state.phrases.filter(
    (phrase) => !phrase.shopId || !summary || phrase.shopId === summary.shop.id,
  );
}

function updatePicker() {
  const box = $('composer-text');
  const query = slashQuery(box.value, box.selectionStart ?? box.value.length);
  if (!query) return closePicker();
  openPicker(query.query);
}

function openPicker(query) {
  const items = filterPhrases(phrasesForSelected(), query);
  state.picker = { open: true, items, index: 0 };
  renderPicker();
}

function closePicker() {
  state.picker = { open: false, items: [], index: 0 };
  $('phrase-picker').hidden = true;
  $('composer-text').removeAttribute('aria-activedescendant');
  $('composer-text').setAttribute('aria-expanded', 'false');
}

function renderPicker() {
  const picker = $('phrase-picker');
  const { items, index } = state.picker;
  picker.hidden = false;
  $('composer-text').setAttribute('aria-expanded', 'true');
  if (!items.length) {
    picker.replaceChildren(el('div', 'phrase-empty', t('phrases.none')));
    $('composer-text').removeAttribute('aria-activedescendant');
    return;
  }
  picker.replaceChildren(
    ...items.map((phrase, i) => {
      const option = el('div', 'phrase-option');
      option.id = `phrase-${i}`;
      option.setAttribute('role', 'option');
      option.setAttribute('aria-selected', String(i === index));
      option.append(
        data('span', 'phrase-shortcut', `/${phrase.shortcut}`),
        data('span', 'phrase-text', phrase.text),
        el(
          'span',
          'phrase-scope',
          t(phrase.scope === 'shop' ? 'phrases.scopeShop' : 'phrases.scopeMine'),
        ),
      );
      // mousedown, not click: the textarea must keep focus and its caret.
      option.addEventListener('mousedown', (event) => {
        event.preventDefault();
        insertPhrase(phrase);
      });
      return option;
    }),
  );
  $('composer-text').setAttribute('aria-activedescendant', `phrase-${index}`);
}

function insertPhrase(phrase) {
  const box = $('composer-text');
  const summary = state.selectedId ? state.conversations.get(state.selectedId) : null;
  const text = fillPhrase(phrase.text, {
    buyerName: summary ? (summary.buyer.name ?? '') : '',
    shopName: summary?.shop.name ?? '',
    agentName: state.me?.name ?? '',
  });
  const caret = box.selectionStart ?? box.value.length;
  const query = slashQuery(box.value, caret);
  const start = query ? query.start : caret;
  box.value = box.value.slice(0, start) + text + box.value.slice(caret);
  const end = start + text.length;
  box.setSelectionRange(end, end);
  closePicker();
  saveDraft();
  box.focus();
}

/** The agent's own phrases: listed with a delete button, and a form to add one. */
function openPhraseManager() {
  $('phrase-error').hidden = true;
  renderMyPhrases();
  $('phrases-dialog').showModal();
  $('phrase-shortcut').focus();
}

function renderMyPhrases() {
  const mine = state.phrases.filter((phrase) => phrase.scope !== 'shop');
  $('my-phrases').replaceChildren(
    ...mine.map((phrase) => {
      const item = el('li', 'my-phrase');
      const remove = el('button', 'button small ghost', t('phrases.delete'));
      remove.type = 'button';
      remove.setAttribute('aria-label', t('phrases.deleteLabel', { shortcut: phrase.shortcut }));
      remove.addEventListener('click', () => void deletePhrase(phrase.id));
      item.append(
        data('span', 'phrase-shortcut', `/${phrase.shortcut}`),
        data('span', 'phrase-text', phrase.text),
        remove,
      );
      return item;
    }),
  );
  $('my-phrases-empty').hidden = mine.length > 0;
}

async function addPhrase() {
  const shortcut = $('phrase-shortcut').value.trim().replace(/^\//, '');
  const text = $('phrase-text').value.trim();
  if (!shortcut || !text) return;
  try {
    await api('/v1/agent/quick-phrases', { method: 'POST', body: { shortcut, text } });
    $('phrase-shortcut').value = '';
    $('phrase-text').value = '';
    $('phrase-error').hidden = true;
    await loadPhrases();
    renderMyPhrases();
    $('phrase-shortcut').focus();
  } catch (error) {
    $('phrase-error').textContent = errorText(error);
    $('phrase-error').hidden = false;
  }
}

async function deletePhrase(id) {
  try {
    await api(`/v1/agent/quick-phrases/${encodeURIComponent(id)}`, { method: 'DELETE' });
    await loadPhrases();
    renderMyPhrases();
  } catch (error) {
    $('phrase-error').textContent = errorText(error);
    $('phrase-error').hidden = false;
  }
}

/** Arrow keys, Enter and Escape while the picker is open; true when the key was the picker's. */
function pickerKey(event) {
  if (!state.picker.open) return false;
  const { items } = state.picker;
  if (event.key === 'Escape') {
    closePicker();
    return true;
  }
  if (!items.length) return false;
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    const step = event.key === 'ArrowDown' ? 1 : -1;
    state.picker.index = (state.picker.index + step + items.length) % items.length;
    renderPicker();
    return true;
  }
  if (event.key === 'Enter' || event.key === 'Tab') {
    insertPhrase(items[state.picker.index]);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- keyboard

/**
 * The shortcuts, shown in the help overlay (?) from this same list. Letter
 * keys act only when no text field has the focus; the Alt chords work
 * everywhere, also while typing.
 */
const SHORTCUTS = [
  { keys: ['1', '2', '3'], label: 'shortcut.send' },
  { keys: ['Alt+1', 'Alt+2', 'Alt+3'], label: 'shortcut.sendWhileTyping' },
  { keys: ['E', 'Shift+1…3'], label: 'shortcut.edit' },
  { keys: ['J', 'Alt+↓'], label: 'shortcut.next' },
  { keys: ['K', 'Alt+↑'], label: 'shortcut.previous' },
  { keys: ['R'], label: 'shortcut.compose' },
  { keys: ['/'], label: 'shortcut.phrases' },
  { keys: ['C'], label: 'shortcut.claim' },
  { keys: ['T'], label: 'shortcut.transfer' },
  { keys: ['X'], label: 'shortcut.close' },
  { keys: ['Esc'], label: 'shortcut.escape' },
  { keys: ['?'], label: 'shortcut.help' },
];

function renderHelp() {
  $('shortcut-rows').replaceChildren(
    ...SHORTCUTS.map(({ keys, label }) => {
      const row = el('tr');
      const cell = el('td');
      keys.forEach((key, i) => {
        if (i) cell.append(' ');
        cell.append(el('kbd', null, key));
      });
      row.append(cell, el('td', null, t(label)));
      return row;
    }),
  );
}

function moveSelection(step) {
  const ids = ordered().map((c) => c.conversationId);
  if (!ids.length) return;
  const at = ids.indexOf(state.selectedId);
  const next =
    at < 0 ? (step > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + step));
  select(ids[next]);
  document
    .querySelector(`.row-button[data-conversation-id="${CSS.escape(ids[next])}"]`)
    ?.scrollIntoView({
      block: 'nearest',
    });
}

function suggestionAt(n) {
  const summary = state.selectedId ? state.conversations.get(state.selectedId) : null;
  return summary?.suggestions[n - 1] ?? null;
}

function isTextField(node) {
  return (
    node instanceof HTMLTextAreaElement ||
    node instanceof HTMLSelectElement ||
    (node instanceof HTMLInputElement && !['button', 'submit', 'checkbox'].includes(node.type)) ||
    node?.isContentEditable
  );
}

function onKeyDown(event) {
  if (!state.me || event.isComposing || event.key === 'Process') return;
  if (document.querySelector('dialog[open]')) return;
  if (event.ctrlKey || event.metaKey) return;
  const typing = isTextField(event.target);
  const digit = /^Digit([1-3])$/.exec(event.code)?.[1];

  if (event.altKey) {
    if (digit) {
      const suggestion = suggestionAt(Number(digit));
      if (suggestion) void sendReply(suggestion.text, suggestion.id);
    } else if (event.key === 'ArrowDown') moveSelection(1);
    else if (event.key === 'ArrowUp') moveSelection(-1);
    else return;
    event.preventDefault();
    return;
  }
  if (typing) {
    if (event.key === 'Escape' && event.target === $('composer-text') && !state.picker.open) {
      saveDraft();
      event.target.blur();
    }
    return;
  }
  if (digit && !event.shiftKey) {
    const suggestion = suggestionAt(Number(digit));
    if (suggestion) void sendReply(suggestion.text, suggestion.id);
  } else if (digit && event.shiftKey) {
    const suggestion = suggestionAt(Number(digit));
    if (suggestion) editSuggestion(suggestion);
  } else {
    switch (event.key.toLowerCase()) {
      case 'e': {
        const suggestion = suggestionAt(1);
        if (suggestion) editSuggestion(suggestion);
        break;
      }
      case 'j':
        moveSelection(1);
        break;
      case 'k':
        moveSelection(-1);
        break;
      case 'r':
        if (state.selectedId) $('composer-text').focus();
        break;
      case '/':
        if (!state.selectedId) return;
        $('composer-text').focus();
        openPicker('');
        break;
      case 'c':
        void claimSelected();
        break;
      case 't':
        if (state.selectedId && !$('transfer-open').hidden) void openTransfer();
        break;
      case 'x':
        void closeSelected();
        break;
      case '?':
        $('help').showModal();
        break;
      case 'escape':
        if (state.alert) dismissAlert();
        else if (document.body.classList.contains('show-conversation')) select(null);
        else return;
        break;
      default:
        return;
    }
  }
  event.preventDefault();
}

// ---------------------------------------------------------------- wiring

function wire() {
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token-input').value.trim();
    if (!token) return showSignInError(t('signIn.pasteToken'));
    // The click that signs in is the user gesture browsers require for the permission prompt.
    askNotificationsOnce();
    void signIn(token);
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('back').addEventListener('click', () => select(null));
  $('claim').addEventListener('click', () => void claimSelected());
  $('close-conversation').addEventListener('click', () => void closeSelected());
  $('transfer-open').addEventListener('click', () => void openTransfer());
  $('transfer-cancel').addEventListener('click', () => $('transfer-dialog').close());
  $('transfer-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void confirmTransfer();
  });
  $('presence').addEventListener('change', (event) => void setPresence(event.target.value));
  $('sound-toggle').addEventListener('click', () => {
    state.sound = !state.sound;
    localStorage.setItem(SOUND_KEY, state.sound ? 'on' : 'off');
    renderAlertSettings();
    if (state.sound) beep();
  });
  $('notify-enable').addEventListener('click', () => askNotificationsOnce(true));
  $('help-open').addEventListener('click', () => $('help').showModal());
  $('help-close').addEventListener('click', () => $('help').close());
  $('alert-dismiss').addEventListener('click', dismissAlert);
  $('notice-dismiss').addEventListener('click', () => {
    $('notice-banner').hidden = true;
  });
  $('alert-open').addEventListener(
    'click',
    () => state.alert && select(state.alert.conversationId),
  );
  $('editing-clear').addEventListener('click', () => {
    $('composer-text').value = '';
    updateRemaining();
    setEditing(null);
    saveDraft();
  });
  $('phrases-manage').addEventListener('click', openPhraseManager);
  $('phrases-close').addEventListener('click', () => $('phrases-dialog').close());
  $('phrase-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void addPhrase();
  });
  $('phrases-open').addEventListener('click', () => {
    $('composer-text').focus();
    openPicker('');
  });
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    // Enter submits even while Send is disabled: past the platform's limit nothing is sent.
    if ((replyOverflow()?.remaining ?? 0) < 0) {
      $('reply-remaining').focus();
      return;
    }
    void sendReply($('composer-text').value, state.editing?.id);
  });
  const box = $('composer-text');
  box.addEventListener('keydown', (event) => {
    if (!event.isComposing && pickerKey(event)) {
      // The picker's key only: Escape closing the picker must not also leave the composer.
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    // Enter sends; Shift+Enter breaks the line; Enter that confirms an IME (pinyin) choice does neither.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $('composer').requestSubmit();
    }
  });
  box.addEventListener('input', () => {
    updateRemaining();
    if (!box.value.trim()) setEditing(null);
    saveDraft();
    updatePicker();
  });
  box.addEventListener('blur', () => setTimeout(closePicker, 0));
  document.addEventListener('keydown', onKeyDown);
  for (const select of document.querySelectorAll('.language-switch'))
    languageSwitch(select, i18n.locale, () => {
      saveDraft();
      location.reload();
    });
  setInterval(tickTimers, 1000);
  setInterval(() => state.token && void refreshStats(), 60_000);

  i18n.apply();
  renderHelp();
  renderConnection('connecting');
  renderAlertSettings();
  updateTitle();
  document.body.classList.remove('loading');

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) void signIn(saved);
  else $('token-input').focus();
}

i18n = await loadI18n(chosenLocale());
wire();
