// The agent console: one page, no framework. Buyer text is untrusted, so the
// DOM is only ever built with createElement + textContent, never innerHTML.

import { openEventStream } from './event-stream.js';

const TOKEN_KEY = 'seatmate.agentToken';

const TACTICS = {
  greeting: '问候 Greeting',
  answer: '解答 Answer',
  empathy: '共情 Empathy',
  help_choose: '帮选 Help choose',
  alternative_close: '二选一 Alternative close',
  busy_nudge: '忙碌提示 Busy nudge',
  follow_up: '跟进 Follow-up',
};

const STAGES = {
  browsing: 'Browsing',
  interested: 'Interested',
  ready: 'Ready to buy',
  hesitating: 'Hesitating',
  complaint: 'Complaint',
  after_sale: 'After sale',
};

const PLATFORMS = {
  generic: 'Web',
  whatsapp: 'WhatsApp',
  messenger: 'Messenger',
  line: 'LINE',
  wechat: 'WeChat',
  telegram: 'Telegram',
  web: '网站 Web',
};

const $ = (id) => document.getElementById(id);

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
  stream: null,
};

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `The service answered ${status}.`);
    this.status = status;
    this.code = body?.error?.code ?? null;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json().catch(() => null);
  if (response.status === 401 && state.me) {
    // The token was revoked while signed in: nothing else will work.
    signOut('Your token is no longer valid. Sign in again.');
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
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showSignInError(
      error.status === 401
        ? 'That token is unknown or has been revoked.'
        : error.status === 403
          ? 'This is not an agent token.'
          : `Could not sign in: ${error.message}`,
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
  state.stream = connectEvents();
  void refreshStats();
}

function signOut(message) {
  state.stream?.stop();
  state.stream = null;
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { token: null, me: null, selectedId: null, editing: null, alert: null });
  state.conversations.clear();
  state.replies.clear();
  state.alerted.clear();
  state.closed.clear();
  $('workspace').hidden = true;
  $('sign-in').hidden = false;
  document.body.classList.remove('show-conversation');
  $('conversation-list').replaceChildren();
  renderAlert();
  $('composer-text').value = '';
  showSignInError(message ?? null);
  $('token-input').focus();
}

function showSignInError(message) {
  const el = $('sign-in-error');
  el.textContent = message ?? '';
  el.hidden = !message;
}

// ---------------------------------------------------------------- live events

const CONNECTION_LABELS = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
};

function connectEvents() {
  return openEventStream({
    url: '/v1/agent/events',
    token: state.token,
    onEvent,
    onState(connection, resumed) {
      $('connection').dataset.state = connection;
      $('connection').textContent = CONNECTION_LABELS[connection];
      // Load the list once the stream is open, so no event falls between the two; a resumed stream replays what it missed.
      if (connection === 'live' && !resumed) void refreshList();
    },
    onUnauthorized: () => signOut('Your token is no longer valid. Sign in again.'),
  });
}

function onEvent(type, data) {
  const id = data.conversationId;
  switch (type) {
    case 'message':
      // A buyer writing again reopens a closed conversation.
      if (data.message?.from === 'buyer') state.closed.delete(id);
      void refreshConversation(id);
      break;
    case 'suggestion':
      void refreshConversation(id);
      break;
    case 'conversation':
      if (data.change === 'closed') {
        forget(id);
      } else {
        void refreshConversation(id);
        if (data.change === 'answered') void refreshStats();
      }
      break;
    case 'reply':
      onReplyStatus(data.replyId, data.status, data.error ?? null);
      break;
    case 'alert':
      raiseAlert(id, data.waitingSeconds, data.thresholdSeconds);
      break;
    case 'reset':
      // Offline longer than the server keeps events: the server's list is the truth again.
      state.closed.clear();
      void refreshList();
      break;
  }
}

// ---------------------------------------------------------------- data

async function refreshList() {
  const token = state.token;
  try {
    const { conversations } = await api('/v1/agent/conversations');
    if (state.token !== token) return;
    const seenAt = performance.now();
    state.conversations.clear();
    for (const summary of conversations) {
      if (!state.closed.has(summary.conversationId))
        state.conversations.set(summary.conversationId, { ...summary, seenAt });
    }
    renderList();
    renderConversation();
    // The list carries only the last few messages; the open conversation shows more.
    if (state.selectedId) void refreshConversation(state.selectedId);
  } catch (error) {
    console.warn('conversations not refreshed', error);
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
        state.conversations.set(id, { ...summary, seenAt: performance.now() });
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

async function refreshStats() {
  try {
    const stats = await api('/v1/agent/stats');
    $('figure-answered').textContent = String(stats.consultationsAnswered);
    $('figure-first-response').textContent =
      stats.averageFirstResponseSeconds === null
        ? '–'
        : spokenDuration(stats.averageFirstResponseSeconds);
    $('figure-rate').textContent =
      stats.within3MinRate === null ? '–' : `${Math.round(stats.within3MinRate * 100)}%`;
    $('figure-saved').textContent = spokenDuration(stats.typingSecondsSaved);
  } catch (error) {
    console.warn('figures not refreshed', error);
  }
}

function forget(id) {
  state.closed.add(id);
  state.conversations.delete(id);
  state.alerted.delete(id);
  if (state.selectedId === id) select(null);
  renderList();
}

// ---------------------------------------------------------------- timers

function secondsWaiting(summary) {
  if (!summary.waiting) return 0;
  return summary.secondsWaiting + Math.floor((performance.now() - summary.seenAt) / 1000);
}

function duration(totalSeconds) {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A figure rather than a clock: "41 s", "3 min 5 s", "1 h 12 min". */
function spokenDuration(totalSeconds) {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Updates every timer in place once a second; re-rendering rows would lose focus and flicker. */
function tickTimers() {
  for (const el of document.querySelectorAll('[data-timer-for]')) {
    const summary = state.conversations.get(el.dataset.timerFor);
    if (summary) paintTimer(el, summary);
  }
}

function paintTimer(el, summary) {
  if (!summary.waiting) {
    el.textContent = 'Answered';
    el.className = 'timer is-answered';
    el.removeAttribute('aria-label');
    return;
  }
  const seconds = secondsWaiting(summary);
  const overdue = seconds >= summary.slowReplySeconds;
  el.textContent = duration(seconds);
  el.className = overdue ? 'timer is-waiting is-overdue' : 'timer is-waiting';
  el.setAttribute(
    'aria-label',
    `Waiting ${duration(seconds)}${overdue ? `, past the shop's ${summary.slowReplySeconds} s limit` : ''}`,
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
  const who = summary ? `${buyerLabel(summary)} · ${summary.shop.name}` : 'A buyer';
  $('alert-text').textContent =
    `${who} has waited ${duration(waitingSeconds)} (shop limit ${duration(thresholdSeconds)}).`;
}

// ---------------------------------------------------------------- rendering

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** Platforms such as LINE give no buyer name, only a long opaque id: shorten it for the eye. */
function buyerLabel(summary) {
  const { name, id } = summary.buyer;
  if (name) return name;
  return id.length > 16 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id;
}

function shopLabel(shop) {
  const label = el('span', 'shop-label');
  label.append(
    el('span', 'shop-name', shop.name),
    el(
      'span',
      `platform platform-${shop.platform in PLATFORMS ? shop.platform : 'other'}`,
      PLATFORMS[shop.platform] ?? shop.platform,
    ),
  );
  return label;
}

function assigneeText(summary) {
  if (!summary.assignedTo) return 'Unassigned';
  return summary.assignedTo.agentId === state.me?.id ? 'You' : summary.assignedTo.name;
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

    const top = el('span', 'row-top');
    top.append(el('span', 'row-buyer', buyerLabel(summary)));
    const timer = el('span', 'timer');
    timer.dataset.timerFor = id;
    paintTimer(timer, summary);
    top.append(timer);

    const last = summary.lastMessages.at(-1);
    const preview = el(
      'span',
      'row-preview',
      last ? `${last.from === 'agent' ? '↩ ' : ''}${last.text}` : '',
    );

    const bottom = el('span', 'row-bottom');
    const mine = summary.assignedTo?.agentId === state.me?.id;
    bottom.append(
      shopLabel(summary.shop),
      el(
        'span',
        `assignee ${mine ? 'is-mine' : summary.assignedTo ? 'is-other' : 'is-free'}`,
        assigneeText(summary),
      ),
    );

    button.append(top, preview, bottom);
    button.setAttribute(
      'aria-label',
      `${buyerLabel(summary)}, ${summary.shop.name}${summary.waiting ? `, waiting ${duration(secondsWaiting(summary))}` : ', answered'}`,
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
  $('waiting-count').textContent = `${waiting} waiting`;
  renderAlert();
}

function select(id) {
  if (id !== state.selectedId) {
    $('composer-text').value = '';
    setEditing(null);
    $('reply-status').textContent = '';
    $('reply-status').dataset.status = '';
  }
  state.selectedId = id;
  if (id) {
    state.alerted.delete(id);
    if (state.alert?.conversationId === id) state.alert = null;
    document.body.classList.add('show-conversation');
    void refreshConversation(id);
  } else {
    document.body.classList.remove('show-conversation');
  }
  renderList();
  renderConversation();
}

function renderConversation() {
  const summary = state.selectedId ? state.conversations.get(state.selectedId) : null;
  $('conversation-empty').hidden = Boolean(summary);
  $('conversation-body').hidden = !summary;
  if (!summary) return;

  $('buyer-name').textContent = buyerLabel(summary);
  $('conversation-shop').replaceWith(
    Object.assign(shopLabel(summary.shop), { id: 'conversation-shop' }),
  );
  $('conversation-stage').textContent = summary.stage
    ? (STAGES[summary.stage] ?? summary.stage)
    : '';
  $('conversation-stage').hidden = !summary.stage;

  const timer = $('conversation-timer');
  timer.dataset.timerFor = summary.conversationId;
  paintTimer(timer, summary);

  const mine = summary.assignedTo?.agentId === state.me?.id;
  const assignee = $('conversation-assignee');
  assignee.className = `assignee ${mine ? 'is-mine' : summary.assignedTo ? 'is-other' : 'is-free'}`;
  assignee.textContent = mine
    ? 'Assigned to you'
    : summary.assignedTo
      ? `${summary.assignedTo.name} is answering`
      : 'Unassigned';
  $('claim').hidden = mine;

  renderMessages(summary);
  renderSuggestions(summary);
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
    messageItem(
      message.from,
      message.text,
      message.at,
      message.from === 'agent' ? message.agentName : null,
      state.replies.get(message.id)?.status === 'sent' ? 'sent' : null,
    ),
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
      'agent',
      reply.text,
      null,
      reply.agentName ?? state.me?.name,
      reply.status,
      reply.error,
    );
    item.dataset.replyId = replyId;
    items.push(item);
  }
  list.replaceChildren(...items);
  if (stuckToBottom) list.scrollTop = list.scrollHeight;
}

function messageItem(from, text, at, agentName, status, error) {
  const item = el('li', `message from-${from === 'agent' ? 'agent' : 'buyer'}`);
  item.append(el('p', 'bubble', text));
  const meta = el('span', 'message-meta');
  const parts = [];
  if (agentName) parts.push(agentName);
  if (at) parts.push(new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
  meta.textContent = parts.join(' · ');
  if (status) {
    const badge = el(
      'span',
      `delivery is-${status}`,
      status === 'queued'
        ? 'Sending…'
        : status === 'sent'
          ? 'Sent ✓'
          : `Failed: ${error ?? 'not delivered'}`,
    );
    meta.append(badge);
  }
  item.append(meta);
  return item;
}

function renderSuggestions(summary) {
  const items = summary.suggestions.map((suggestion) => {
    const item = el('li', 'suggestion');
    item.dataset.suggestionId = suggestion.id;
    const chip = el(
      'span',
      `tactic tactic-${suggestion.tactic}`,
      TACTICS[suggestion.tactic] ?? suggestion.tactic,
    );
    const text = el('p', 'suggestion-text', suggestion.text);
    const actions = el('div', 'suggestion-actions');
    const send = el('button', 'button primary small', 'Send');
    send.type = 'button';
    send.setAttribute(
      'aria-label',
      `Send this ${TACTICS[suggestion.tactic] ?? suggestion.tactic} suggestion as is`,
    );
    send.addEventListener('click', () => sendReply(suggestion.text, suggestion.id));
    const edit = el('button', 'button small ghost', 'Edit');
    edit.type = 'button';
    edit.setAttribute('aria-label', 'Edit this suggestion before sending');
    edit.addEventListener('click', () => {
      $('composer-text').value = suggestion.text;
      setEditing(suggestion);
      $('composer-text').focus();
    });
    actions.append(send, edit);
    item.append(chip, text, actions);
    return item;
  });
  $('suggestion-list').replaceChildren(...items);
  $('suggestions-empty').hidden = items.length > 0;
}

function setEditing(suggestion) {
  state.editing = suggestion ? { id: suggestion.id, tactic: suggestion.tactic } : null;
  $('editing-note').hidden = !suggestion;
  $('editing-text').textContent = suggestion
    ? `Editing a suggestion: ${TACTICS[suggestion.tactic] ?? suggestion.tactic}`
    : '';
}

// ---------------------------------------------------------------- actions

let sending = false;

async function sendReply(text, suggestionId) {
  const id = state.selectedId;
  const status = $('reply-status');
  // A double click must not send the buyer the same answer twice.
  if (!id || !text.trim() || sending) return;
  sending = true;
  status.dataset.status = 'sending';
  status.textContent = 'Sending…';
  try {
    const body = suggestionId ? { text, suggestionId } : { text };
    const reply = await api(`/v1/agent/conversations/${encodeURIComponent(id)}/replies`, {
      method: 'POST',
      body,
    });
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
      setEditing(null);
    }
    renderConversation();
    void followReply(id, reply.replyId);
  } catch (error) {
    status.dataset.status = 'failed';
    status.textContent =
      error.code === 'conversation_taken' ? error.message : `Not sent: ${error.message}`;
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
      ? 'Queued – delivering to the platform…'
      : reply.status === 'sent'
        ? 'Sent – the buyer has it.'
        : `Failed: ${reply.error ?? 'the platform refused it'}`;
}

async function claimSelected() {
  const id = state.selectedId;
  if (!id) return;
  try {
    await api(`/v1/agent/conversations/${encodeURIComponent(id)}/claim`, { method: 'POST' });
    await refreshConversation(id);
  } catch (error) {
    $('reply-status').dataset.status = 'failed';
    $('reply-status').textContent = error.message;
  }
}

async function closeSelected() {
  const id = state.selectedId;
  if (!id) return;
  try {
    await api(`/v1/agent/conversations/${encodeURIComponent(id)}/close`, { method: 'POST' });
    forget(id);
  } catch (error) {
    $('reply-status').dataset.status = 'failed';
    $('reply-status').textContent = error.message;
  }
}

// ---------------------------------------------------------------- wiring

function wire() {
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token-input').value.trim();
    if (!token) return showSignInError('Paste your agent token.');
    void signIn(token);
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('back').addEventListener('click', () => select(null));
  $('claim').addEventListener('click', () => void claimSelected());
  $('close-conversation').addEventListener('click', () => void closeSelected());
  $('alert-dismiss').addEventListener('click', dismissAlert);
  $('alert-open').addEventListener(
    'click',
    () => state.alert && select(state.alert.conversationId),
  );
  $('editing-clear').addEventListener('click', () => {
    $('composer-text').value = '';
    setEditing(null);
  });
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    void sendReply($('composer-text').value, state.editing?.id);
  });
  $('composer-text').addEventListener('keydown', (event) => {
    // Enter sends; Shift+Enter breaks the line; Enter that confirms an IME (pinyin) choice does neither.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('composer-text').addEventListener('input', () => {
    if (!$('composer-text').value.trim()) setEditing(null);
  });
  setInterval(tickTimers, 1000);
  setInterval(() => state.token && void refreshStats(), 60_000);

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) void signIn(saved);
  else $('token-input').focus();
}

wire();
