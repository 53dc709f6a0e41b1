// The operator desk. Every piece of text reaches the page through textContent
// or setAttribute (never innerHTML): shop, agent and operator names are
// untrusted. The token lives in sessionStorage only. Words come from the
// locale's catalog (../i18n); numbers, money and times go through Intl.
import { chosenLocale, languageSwitch, loadI18n } from '/i18n/i18n.js';

const KEY = 'seatmate.operatorToken';
const DESK_POLL_MS = 5000;
const CLOSE_POLL_MS = 700;
const PLATFORMS = ['generic', 'web', 'whatsapp', 'messenger', 'line', 'wechat', 'telegram'];
/** The credentials each platform asks for when a shop is created (see docs/platforms.md). */
const CREDENTIALS = {
  generic: ['replyUrl'],
  web: ['allowedOrigins'],
  whatsapp: ['appSecret', 'verifyToken', 'accessToken', 'phoneNumberId'],
  messenger: ['appSecret', 'appId', 'verifyToken', 'pageAccessToken', 'pageId'],
  line: ['channelSecret', 'channelAccessToken'],
  wechat: ['appId', 'appSecret', 'token', 'encodingAESKey'],
  telegram: ['botToken', 'secretToken'],
};
/** Credentials the service takes without (a plain-mode WeChat account, a Page filter, a reply URL). */
const OPTIONAL_CREDENTIALS = new Set(['replyUrl', 'pageId', 'encodingAESKey']);
const $ = (id) => document.getElementById(id);

const i18n = await loadI18n(chosenLocale());
const t = (key, vars) => i18n.t(key, vars);

const state = {
  token: sessionStorage.getItem(KEY),
  operator: null,
  tab: 'desk',
  shops: [],
  deskTimer: null,
  closeTimer: null,
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children)
    if (child !== null && child !== undefined)
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}
/** People's and shops' own words: never translated by the browser, never run as markup. */
const own = (text) => el('span', { translate: 'no' }, text ?? '');
const num = (value, digits = 0) =>
  value === null || value === undefined
    ? '—'
    : i18n.number(value, { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (rate) => (rate === null || rate === undefined ? '—' : i18n.percent(rate, 1));
const money = (fen) => (fen === null || fen === undefined ? '—' : i18n.money(fen));
const seconds = (s) => (s === null || s === undefined ? '—' : i18n.duration(s));
const isAdmin = () => state.operator?.role === 'admin';

function table(node, headers, rows) {
  node.replaceChildren(
    el(
      'thead',
      {},
      el('tr', {}, ...headers.map(([label, cls]) => el('th', { class: cls }, label))),
    ),
    el(
      'tbody',
      {},
      ...(rows.length
        ? rows
        : [el('tr', {}, el('td', { colspan: headers.length, class: 'muted' }, t('admin.empty')))]),
    ),
  );
}
const td = (content, cls) => el('td', { class: cls }, content);

function notice(text) {
  $('notice').textContent = text;
  $('error').textContent = '';
}
function fail(error) {
  $('error').textContent = error instanceof Error ? error.message : String(error);
  $('notice').textContent = '';
}

async function api(path, { method = 'GET', body, accept = 'application/json' } = {}) {
  const headers = { authorization: `Bearer ${state.token}`, accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Error(t('error.network'));
  }
  if (res.status === 401) {
    signOut(t('admin.tokenUnknown'));
    throw new Error(t('admin.tokenUnknown'));
  }
  if (!res.ok) {
    const payload = await res.json().catch(() => null);
    const error = payload?.error;
    // The operator's language when the code has words; the field it names stays as sent (it is code).
    if (error?.code && i18n.has(`error.${error.code}`)) {
      const field = error.details?.field;
      throw Object.assign(
        new Error(field ? `${t(`error.${error.code}`)} (${field})` : t(`error.${error.code}`)),
        { field },
      );
    }
    // The service's own message is English: a code without words here is named by its status.
    throw new Error(t('error.status', { status: String(res.status) }));
  }
  if (res.status === 204) return null;
  return accept === 'application/json' ? res.json() : res;
}

async function downloadCsv(path, filename) {
  const res = await api(path, { accept: 'text/csv' });
  // Bytes, not text: text would drop the UTF-8 BOM Excel needs for Chinese.
  const blob = new Blob([await res.arrayBuffer()], { type: 'text/csv;charset=utf-8' });
  const link = el('a', { href: URL.createObjectURL(blob), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

/** A secret shown once, with a button to copy it. */
function secretBox(label, value) {
  return el(
    'div',
    { class: 'card' },
    el('strong', {}, label),
    el('p', { class: 'muted' }, t('admin.shownOnce')),
    el('div', { class: 'secret', translate: 'no', 'data-secret': label }, value),
    el(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => navigator.clipboard?.writeText(value).then(() => notice(t('admin.copied'))),
      },
      t('admin.copy'),
    ),
  );
}

// ---- sign in -------------------------------------------------------------

function signOut(message = '') {
  sessionStorage.removeItem(KEY);
  state.token = null;
  clearInterval(state.deskTimer);
  $('app').hidden = true;
  $('who').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
}

async function signIn(token) {
  state.token = token;
  const me = await api('/v1/me');
  if (me.kind !== 'admin')
    throw Object.assign(new Error(t('admin.notOperator')), {
      parts: i18n.wrongPage(t('admin.notOperator'), me.kind),
    });
  sessionStorage.setItem(KEY, token);
  state.operator = me.operator;
  // The desk's month, not the browser's: they differ for hours at a month's end.
  if (me.desk?.currentMonth) {
    $('report-month').value = me.desk.currentMonth;
    $('close-month').value = monthBefore(me.desk.currentMonth);
  }
  $('operator-name').textContent =
    me.operator.id === 'owner' ? t('admin.deskOwner') : me.operator.name;
  $('operator-role').textContent = t(
    me.operator.role === 'admin' ? 'admin.role.admin' : 'admin.role.supervisor',
  );
  document.body.classList.toggle('supervisor', !isAdmin());
  for (const node of document.querySelectorAll(
    '#agent-create, #operator-create, #shop-new, #close-start',
  ))
    node.hidden = !isAdmin();
  $('tabs').querySelector('[data-tab="audit"]').hidden = !isAdmin();
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('sign-out').hidden = false;
  // Signed in: a tab that fails to load says so, it does not sign the operator out.
  await showTab(location.hash.slice(1) || 'desk').catch(fail);
}

// ---- tabs ----------------------------------------------------------------

const LOADERS = {
  desk: loadDesk,
  shops: loadShops,
  agents: loadAgents,
  operators: loadOperators,
  month: loadReport,
  close: () => undefined,
  jobs: loadJobs,
  audit: loadAudit,
};

async function showTab(name) {
  const tab = name in LOADERS ? name : 'desk';
  state.tab = tab;
  if (location.hash !== `#${tab}`) history.replaceState(null, '', `#${tab}`);
  for (const button of $('tabs').querySelectorAll('button'))
    button.setAttribute('aria-current', button.dataset.tab === tab ? 'page' : 'false');
  for (const section of document.querySelectorAll('.tab'))
    section.hidden = section.id !== `tab-${tab}`;
  clearInterval(state.deskTimer);
  if (tab === 'desk')
    state.deskTimer = setInterval(() => {
      if (!document.hidden) loadDesk().catch(fail);
    }, DESK_POLL_MS);
  $('error').textContent = '';
  $('notice').textContent = '';
  await LOADERS[tab]();
}

// ---- desk ----------------------------------------------------------------

async function loadDesk() {
  const desk = await api('/v1/desk');
  $('desk-updated').textContent = t('admin.desk.updated', { time: i18n.time(desk.at) });
  table(
    $('desk-shops'),
    [
      [t('admin.col.shop')],
      [t('admin.col.waiting'), 'num'],
      [t('admin.col.longestWait'), 'num'],
      [t('admin.col.agents')],
      [t('admin.col.consultationsToday'), 'num'],
      [t('admin.col.firstResponse'), 'num'],
      [t('admin.col.within3Min'), 'num'],
    ],
    desk.shops.map((s) =>
      el(
        'tr',
        { class: s.overdue > 0 ? 'hot' : null, 'data-shop': s.id },
        td(own(s.name)),
        td(num(s.waiting), 'num'),
        td(s.waiting ? seconds(s.longestWaitSeconds) : '—', 'num'),
        td(
          s.agents.length
            ? el(
                'span',
                {},
                ...s.agents.flatMap((a, i) => [
                  i ? ', ' : '',
                  own(a.name),
                  ` (${t('admin.desk.load', { open: a.open })}${a.presence ? ` · ${t(`presence.${a.presence}`)}` : ''})`,
                ]),
              )
            : t('admin.desk.noAgents'),
        ),
        td(num(s.today.consultations), 'num'),
        td(seconds(s.today.averageFirstResponseSeconds), 'num'),
        td(pct(s.today.within3MinRate), 'num'),
      ),
    ),
  );
  table(
    $('desk-agents'),
    [
      [t('admin.col.agent')],
      [t('admin.col.open'), 'num'],
      [t('admin.col.waiting'), 'num'],
      [t('admin.col.answeredToday'), 'num'],
      [t('admin.col.firstResponse'), 'num'],
      [t('admin.col.within3Min'), 'num'],
    ],
    desk.agents.map((a) =>
      el(
        'tr',
        {},
        td(own(a.name)),
        td(num(a.openConversations), 'num'),
        td(num(a.waiting), 'num'),
        td(num(a.today.consultationsAnswered), 'num'),
        td(seconds(a.today.averageFirstResponseSeconds), 'num'),
        td(pct(a.today.within3MinRate), 'num'),
      ),
    ),
  );
}

// ---- shops ---------------------------------------------------------------

async function loadShops() {
  const params = new URLSearchParams();
  if ($('shop-filter').value.trim()) params.set('name', $('shop-filter').value.trim());
  if ($('shop-platform-filter').value) params.set('platform', $('shop-platform-filter').value);
  const list = await api(`/v1/shops?${params}`);
  state.shops = list.shops;
  $('shops-total').textContent = t('admin.shops.total', { total: list.total });
  table(
    $('shops'),
    [
      [t('admin.col.shop')],
      [t('admin.shops.platform')],
      [t('admin.col.plan')],
      [t('admin.shops.timezone')],
      [''],
    ],
    list.shops.map((s) =>
      el(
        'tr',
        { 'data-shop': s.id },
        td(own(s.name)),
        td(t(`platform.${s.platform}`)),
        td(s.plan ? t(`plan.${s.plan.model}`) : t('admin.shops.noPlan')),
        td(own(s.timezone)),
        td(
          el(
            'button',
            { type: 'button', class: 'secondary', onclick: () => openShop(s.id) },
            t('admin.open'),
          ),
        ),
      ),
    ),
  );
}

function credentialInputs(platform) {
  const box = $('new-shop-credentials');
  box.replaceChildren(
    ...CREDENTIALS[platform].flatMap((field) => {
      // What the service will check, said before it refuses (the field name stays: platforms use it).
      const hint = i18n.has(`admin.credentialHint.${field}`)
        ? el(
            'p',
            { id: `cred-hint-${field}`, class: 'muted hint' },
            t(`admin.credentialHint.${field}`),
          )
        : null;
      // The platform console's own name for it, in the operator's language, then the field as sent.
      return [
        el(
          'label',
          { for: `cred-${field}` },
          t(`admin.credential.${platform}.${field}`),
          ' ',
          el('span', { translate: 'no', class: 'muted' }, `(${field})`),
        ),
        el('input', {
          id: `cred-${field}`,
          'data-field': field,
          required: !OPTIONAL_CREDENTIALS.has(field),
          placeholder: field === 'allowedOrigins' ? 'https://shop.example' : null,
          autocomplete: 'off',
          'aria-describedby': hint ? hint.id : null,
        }),
        ...(hint ? [hint] : []),
      ];
    }),
  );
  $('new-shop-guide').textContent = t(`admin.guide.${platform}`);
  showCreateError(null);
}

/** The input a refused shop names: `credentials.secretToken` → its credential input. */
function shopInputFor(field) {
  if (!field) return null;
  if (field.startsWith('credentials.'))
    return $('new-shop-credentials').querySelector(
      `[data-field="${CSS.escape(field.slice('credentials.'.length).split('.')[0])}"]`,
    );
  return { name: $('new-shop-name'), timezone: $('new-shop-timezone') }[field] ?? null;
}

/**
 * A refused shop is said inside the form, by the button just pressed, and the
 * field it names is marked and focused (on a phone the page-top message is out
 * of sight, and which field to fix was left to guess).
 */
function showCreateError(error) {
  for (const input of $('shop-create').querySelectorAll('[aria-invalid]'))
    input.removeAttribute('aria-invalid');
  $('new-shop-error').textContent = error ? error.message : '';
  const input = shopInputFor(error?.field);
  if (!input) return;
  input.setAttribute('aria-invalid', 'true');
  const hint = input.getAttribute('aria-describedby');
  if (hint) $('new-shop-error').textContent = `${error.message} ${$(hint).textContent}`;
  input.focus();
  // Focus scrolls the field into sight; the words saying what is wrong with it, just below, too.
  $('new-shop-error').scrollIntoView({ block: 'nearest' });
}

async function createShop(event) {
  event.preventDefault();
  const platform = $('new-shop-platform').value;
  const credentials = {};
  for (const input of $('new-shop-credentials').querySelectorAll('input')) {
    const value = input.value.trim();
    if (!value) continue;
    credentials[input.dataset.field] =
      input.dataset.field === 'allowedOrigins' ? value.split(/[\s,]+/).filter(Boolean) : value;
  }
  const body = {
    name: $('new-shop-name').value,
    platform,
    timezone: $('new-shop-timezone').value.trim(),
  };
  if (Object.keys(credentials).length) body.credentials = credentials;
  let created;
  try {
    created = await api('/v1/shops', { method: 'POST', body });
  } catch (error) {
    showCreateError(error);
    return;
  }
  showCreateError(null);
  $('shop-create').hidden = true;
  $('shop-create').reset();
  notice(t('admin.shops.created', { name: created.name }));
  await loadShops();
  await openShop(created.id, created);
}

/** Where to paste what on the platform's side: the webhook URL and the handshake values. */
function guide(shop, created) {
  // A web shop has no webhook: its guide is the snippet, shown with the shop.
  const rows = shop.webhookUrl ? [[t('admin.guide.webhookUrl'), shop.webhookUrl]] : [];
  if (shop.platform === 'telegram')
    rows.push([t('admin.guide.setWebhook'), `setWebhook?url=${shop.webhookUrl}&secret_token=…`]);
  if (created?.webhookSecret) rows.push([t('admin.guide.webhookSecret'), created.webhookSecret]);
  return el(
    'div',
    {},
    el('p', { class: 'muted' }, t(`admin.guide.${shop.platform}`)),
    el(
      'dl',
      { class: 'guide' },
      ...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { translate: 'no' }, v)]),
    ),
  );
}

async function openShop(id, created) {
  const shop = await api(`/v1/shops/${encodeURIComponent(id)}`);
  const box = $('shop-detail');
  const planText = el('textarea', {
    id: 'plan-json',
    'aria-label': t('admin.col.plan'),
    spellcheck: 'false',
  });
  planText.value = JSON.stringify(
    shop.plan ?? { model: 'tiered', tiers: [{ upToAverageDaily: null, monthlyFen: 0 }] },
    null,
    2,
  );
  const catalogText = el('textarea', {
    id: 'catalog-json',
    'aria-label': t('admin.shops.catalog'),
    spellcheck: 'false',
  });
  catalogText.value = JSON.stringify(shop.catalog ?? { products: [] }, null, 2);
  const busy = el('input', {
    type: 'checkbox',
    id: 'setting-busy',
    checked: shop.settings.busyNudge,
  });
  const slow = el('input', {
    type: 'number',
    id: 'setting-slow',
    min: 1,
    value: shop.settings.slowReplySeconds,
  });
  const preview = el('div', { id: 'plan-preview' });
  const secrets = el('div', { id: 'shop-secrets' });
  if (created?.ownerKey) secrets.append(secretBox(t('admin.shops.ownerKey'), created.ownerKey));
  if (created?.webhookSecret)
    secrets.append(secretBox(t('admin.guide.webhookSecret'), created.webhookSecret));
  const parse = (node) => {
    try {
      return JSON.parse(node.value);
    } catch {
      throw new Error(t('admin.shops.badJson'));
    }
  };
  const guarded = (work) => () => work().catch(fail);
  const parts = [
    el(
      'h3',
      {},
      own(shop.name),
      ' ',
      el('span', { class: 'badge' }, t(`platform.${shop.platform}`)),
    ),
    secrets,
    guide(shop, created),
    shop.snippet
      ? el(
          'div',
          {},
          el('strong', {}, t('admin.shops.snippet')),
          el('pre', { class: 'snippet', translate: 'no' }, shop.snippet),
        )
      : null,
    el('h3', {}, t('admin.col.plan')),
    el('p', { class: 'muted' }, t('admin.shops.planHint')),
    planText,
    el(
      'div',
      { class: 'actions' },
      el(
        'button',
        {
          type: 'button',
          class: 'secondary',
          id: 'plan-preview-button',
          onclick: guarded(async () => {
            const result = await api(`/v1/shops/${shop.id}/plan-preview`, {
              method: 'POST',
              body: { plan: parse(planText) },
            });
            preview.replaceChildren(
              el(
                'p',
                {},
                t('admin.shops.previewLine', {
                  current: money(result.current?.totalFen),
                  proposed: money(result.proposed.totalFen),
                }),
              ),
            );
          }),
        },
        t('admin.shops.preview'),
      ),
      isAdmin()
        ? el(
            'button',
            {
              type: 'button',
              onclick: guarded(async () => {
                await api(`/v1/shops/${shop.id}`, {
                  method: 'PATCH',
                  body: { plan: parse(planText) },
                });
                notice(t('admin.shops.planSaved'));
              }),
            },
            t('admin.shops.savePlan'),
          )
        : null,
    ),
    preview,
    el('h3', {}, t('admin.shops.settings')),
    el('label', {}, busy, ' ', t('admin.shops.busyNudge')),
    el('label', { for: 'setting-slow' }, t('admin.shops.slowReply')),
    slow,
    el('h3', {}, t('admin.shops.catalog')),
    catalogText,
    isAdmin()
      ? el(
          'div',
          { class: 'actions' },
          el(
            'button',
            {
              type: 'button',
              onclick: guarded(async () => {
                await api(`/v1/shops/${shop.id}`, {
                  method: 'PATCH',
                  body: {
                    catalog: parse(catalogText),
                    settings: { busyNudge: busy.checked, slowReplySeconds: Number(slow.value) },
                  },
                });
                notice(t('admin.shops.saved'));
              }),
            },
            t('admin.shops.save'),
          ),
          el(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: guarded(async () => {
                if (!confirm(t('admin.shops.confirmOwnerKey'))) return;
                const res = await api(`/v1/shops/${shop.id}/owner-key`, {
                  method: 'POST',
                  body: {},
                });
                secrets.replaceChildren(secretBox(t('admin.shops.ownerKey'), res.ownerKey));
              }),
            },
            t('admin.shops.reissueOwnerKey'),
          ),
          shop.platform === 'generic'
            ? el(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  onclick: guarded(async () => {
                    const revokePrevious = confirm(t('admin.shops.confirmRevokePrevious'));
                    const res = await api(`/v1/shops/${shop.id}/webhook-secret`, {
                      method: 'POST',
                      body: { revokePrevious },
                    });
                    secrets.replaceChildren(
                      secretBox(t('admin.guide.webhookSecret'), res.webhookSecret),
                      el(
                        'p',
                        { class: 'muted' },
                        res.previousValidUntil
                          ? t('admin.shops.previousUntil', {
                              time: i18n.dateTime(res.previousValidUntil),
                            })
                          : t('admin.shops.previousRevoked'),
                      ),
                    );
                  }),
                },
                t('admin.shops.rotateSecret'),
              )
            : null,
        )
      : null,
  ];
  box.replaceChildren(...parts.filter(Boolean));
  box.hidden = false;
  box.scrollIntoView({ block: 'start' });
}

// ---- agents --------------------------------------------------------------

async function shopChoices(container, chosen = []) {
  if (!state.shops.length) state.shops = (await api('/v1/shops')).shops;
  container.replaceChildren(
    ...[...container.querySelectorAll('legend')],
    ...state.shops.map((s) =>
      el(
        'label',
        {},
        el('input', { type: 'checkbox', value: s.id, checked: chosen.includes(s.id) }),
        ' ',
        own(s.name),
      ),
    ),
  );
}
const checked = (container) => [...container.querySelectorAll('input:checked')].map((i) => i.value);

async function loadAgents() {
  const [{ agents }] = await Promise.all([api('/v1/agents'), shopChoices($('new-agent-shops'))]);
  table(
    $('agents'),
    [
      [t('admin.col.agent')],
      [t('admin.agents.shops')],
      [t('admin.col.presence')],
      [t('admin.col.open'), 'num'],
      [''],
    ],
    agents.map((a) => {
      const editor = el('fieldset', { hidden: true }, el('legend', {}, t('admin.agents.shops')));
      const row = el(
        'tr',
        { 'data-agent': a.id },
        td(own(a.name)),
        td(el('span', {}, ...a.shops.flatMap((s, i) => [i ? ', ' : '', own(s.name)])), editor),
        td(a.presence ? t(`presence.${a.presence}`) : '—'),
        td(num(a.openConversations), 'num'),
        td(
          el(
            'div',
            { class: 'actions' },
            el(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: async () => {
                  if (editor.hidden) {
                    await shopChoices(editor, a.shopIds);
                    editor.append(
                      el(
                        'button',
                        {
                          type: 'button',
                          onclick: () =>
                            api(`/v1/agents/${a.id}`, {
                              method: 'PATCH',
                              body: { shopIds: checked(editor) },
                            })
                              .then(() => notice(t('admin.agents.moved', { name: a.name })))
                              .then(loadAgents)
                              .catch(fail),
                        },
                        t('admin.agents.saveShops'),
                      ),
                    );
                  }
                  editor.hidden = !editor.hidden;
                },
              },
              t('admin.agents.assign'),
            ),
            isAdmin()
              ? el(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    onclick: () =>
                      confirm(t('admin.agents.confirmReissue', { name: a.name })) &&
                      api(`/v1/agents/${a.id}/token`, { method: 'POST', body: {} })
                        .then((res) =>
                          row.after(
                            el(
                              'tr',
                              {},
                              el(
                                'td',
                                { colspan: 5 },
                                secretBox(t('admin.agents.token'), res.token),
                              ),
                            ),
                          ),
                        )
                        .catch(fail),
                  },
                  t('admin.agents.reissue'),
                )
              : null,
            isAdmin()
              ? el(
                  'button',
                  {
                    type: 'button',
                    class: 'danger',
                    onclick: () =>
                      confirm(t('admin.agents.confirmRevoke', { name: a.name })) &&
                      api(`/v1/agents/${a.id}`, { method: 'DELETE' }).then(loadAgents).catch(fail),
                  },
                  t('admin.agents.revoke'),
                )
              : null,
          ),
        ),
      );
      return row;
    }),
  );
}

async function createAgent(event) {
  event.preventDefault();
  const created = await api('/v1/agents', {
    method: 'POST',
    body: { name: $('new-agent-name').value, shopIds: checked($('new-agent-shops')) },
  });
  $('agent-create').reset();
  await loadAgents();
  $('agents').after(secretBox(t('admin.agents.token'), created.token));
}

// ---- operators -----------------------------------------------------------

async function loadOperators() {
  const { owner, operators } = await api('/v1/operators');
  const roleName = (role) => t(role === 'admin' ? 'admin.role.admin' : 'admin.role.supervisor');
  table(
    $('operators'),
    [[t('admin.operators.name')], [t('admin.operators.role')], [t('admin.operators.id')], ['']],
    [
      el('tr', {}, td(t('admin.deskOwner')), td(roleName(owner.role)), td(own(owner.id)), td('')),
      ...operators.map((o) =>
        el(
          'tr',
          { 'data-operator': o.id },
          td(own(o.name)),
          td(roleName(o.role)),
          td(own(o.id)),
          td(
            isAdmin()
              ? el(
                  'div',
                  { class: 'actions' },
                  el(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary',
                      onclick: () =>
                        api(`/v1/operators/${o.id}`, {
                          method: 'PATCH',
                          body: { role: o.role === 'admin' ? 'supervisor' : 'admin' },
                        })
                          .then(loadOperators)
                          .catch(fail),
                    },
                    o.role === 'admin'
                      ? t('admin.operators.makeSupervisor')
                      : t('admin.operators.makeAdmin'),
                  ),
                  el(
                    'button',
                    {
                      type: 'button',
                      class: 'danger',
                      onclick: () =>
                        confirm(t('admin.operators.confirmRevoke', { name: o.name })) &&
                        api(`/v1/operators/${o.id}`, { method: 'DELETE' })
                          .then(loadOperators)
                          .catch(fail),
                    },
                    t('admin.operators.revoke'),
                  ),
                )
              : '',
          ),
        ),
      ),
    ],
  );
}

async function createOperator(event) {
  event.preventDefault();
  const created = await api('/v1/operators', {
    method: 'POST',
    body: { name: $('new-operator-name').value, role: $('new-operator-role').value },
  });
  $('operator-create').reset();
  await loadOperators();
  $('operators').after(secretBox(t('admin.operators.token'), created.token));
}

// ---- the month -----------------------------------------------------------

function targetsText(targets) {
  if (!targets) return '—';
  return targets
    .map(
      (x) => `${t(`target.${x.name}`)}: ${x.met ? t('admin.month.met') : t('admin.month.notMet')}`,
    )
    .join('; ');
}

async function loadReport() {
  const month = $('report-month').value;
  const report = await api(`/v1/reports/month?month=${month}`);
  table(
    $('report'),
    [
      [t('admin.col.shop')],
      [t('admin.col.consultations'), 'num'],
      [t('admin.col.averageDaily'), 'num'],
      [t('admin.col.tier'), 'num'],
      [t('admin.col.total'), 'num'],
      [t('admin.col.receptions'), 'num'],
      [t('admin.col.within3Min'), 'num'],
      [t('admin.col.conversion'), 'num'],
      [t('admin.col.satisfaction'), 'num'],
      [t('admin.col.targets')],
    ],
    [
      ...report.shops.map((r) =>
        el(
          'tr',
          { 'data-shop': r.shopId },
          td(own(r.name)),
          td(num(r.consultations), 'num'),
          td(num(r.averageDaily, 2), 'num'),
          td(r.tier ? num(r.tier.number) : '—', 'num'),
          td(
            r.status
              ? el(
                  'span',
                  {},
                  money(r.totalFen),
                  ' ',
                  el(
                    'span',
                    { class: 'badge' },
                    r.status === 'final' ? t('admin.month.final') : t('admin.month.estimate'),
                  ),
                )
              : r.problem
                ? el('span', { class: 'bad' }, t('admin.month.unpriced'))
                : t('admin.shops.noPlan'),
            'num',
          ),
          td(num(r.receptions), 'num'),
          td(pct(r.within3MinRate), 'num'),
          td(pct(r.conversionRate), 'num'),
          td(num(r.satisfaction, 2), 'num'),
          td(
            targetsText(r.targets),
            r.targets?.every((x) => x.met) ? 'good' : r.targets ? 'bad' : null,
          ),
        ),
      ),
      el(
        'tr',
        {},
        el('th', {}, t('admin.month.totals')),
        td(num(report.totals.consultations), 'num'),
        td(''),
        td(''),
        td(money(report.totals.totalFen), 'num'),
        td(num(report.totals.receptions), 'num'),
        td(''),
        td(''),
        td(''),
        td(''),
      ),
    ],
  );
}

// ---- month close ---------------------------------------------------------

function skipText(reason) {
  return reason ? t(`admin.close.reason.${reason}`) : '';
}

async function previewClose() {
  const month = $('close-month').value;
  const preview = await api(`/v1/billing/close-preview?month=${month}`);
  $('close-start').disabled = !preview.monthEnded;
  $('close-summary').textContent = preview.monthEnded
    ? t('admin.close.summary', {
        close: preview.shops.filter((s) => s.action === 'close').length,
        total: money(preview.totalFen),
      })
    : t('admin.close.notEnded', { month, zone: preview.billingTimezone });
  table(
    $('close-table'),
    [
      [t('admin.col.shop')],
      [t('admin.close.action')],
      [t('admin.col.total'), 'num'],
      [t('admin.close.why')],
    ],
    preview.shops.map((s) =>
      el(
        'tr',
        { 'data-shop': s.shopId },
        td(own(s.name ?? s.shopId)),
        td(t(`admin.close.action.${s.action}`)),
        td(money(s.totalFen), 'num'),
        td(s.action === 'fail' ? own(s.message) : skipText(s.reason)),
      ),
    ),
  );
}

async function startClose() {
  const month = $('close-month').value;
  if (!confirm(t('admin.close.confirm', { month }))) return;
  const job = await api('/v1/billing/close-jobs', { method: 'POST', body: { month } });
  $('close-start').disabled = true;
  $('close-progress').hidden = false;
  $('close-progress').value = 0;
  clearInterval(state.closeTimer);
  state.closeTimer = setInterval(() => pollClose(job.jobId).catch(fail), CLOSE_POLL_MS);
}

async function pollClose(jobId) {
  const job = await api(`/v1/billing/close-jobs/${encodeURIComponent(jobId)}`);
  const total = job.total ?? 0;
  $('close-progress').max = Math.max(total, 1);
  $('close-progress').value = job.done;
  $('close-progress-text').textContent = t('admin.close.progress', { done: job.done, total });
  if (job.state !== 'completed' && job.state !== 'failed') return;
  clearInterval(state.closeTimer);
  const report = job.report;
  if (!report) {
    fail(job.failedReason ?? t('error.status', { status: job.state }));
    return;
  }
  $('close-progress').value = $('close-progress').max;
  $('close-summary').textContent = t('admin.close.done', {
    closed: report.closed,
    already: report.alreadyClosed,
    skipped: report.skipped.length,
    failed: report.failed.length,
    total: money(report.totalFen),
  });
  const names = new Map((await api('/v1/shops')).shops.map((s) => [s.id, s.name]));
  table(
    $('close-table'),
    [[t('admin.col.shop')], [t('admin.close.result')], [t('admin.close.why')]],
    [
      ...report.skipped.map((s) =>
        el(
          'tr',
          { 'data-shop': s.shopId },
          td(own(names.get(s.shopId) ?? s.shopId)),
          td(t('admin.close.action.skip')),
          td(skipText(s.reason)),
        ),
      ),
      ...report.failed.map((s) =>
        el(
          'tr',
          { class: 'hot', 'data-shop': s.shopId },
          td(own(names.get(s.shopId) ?? s.shopId)),
          td(t('admin.close.action.fail')),
          td(own(s.message)),
        ),
      ),
    ],
  );
}

// ---- failed jobs ---------------------------------------------------------

async function loadJobs() {
  const { jobs } = await api('/v1/ops/failed-jobs');
  table(
    $('jobs'),
    [
      [t('admin.jobs.queue')],
      [t('admin.jobs.job')],
      [t('admin.col.shop')],
      [t('admin.jobs.attempts'), 'num'],
      [t('admin.jobs.reason')],
      [t('admin.jobs.failedAt')],
      [''],
    ],
    jobs.map((j) =>
      el(
        'tr',
        { 'data-job': j.id },
        td(own(j.queue)),
        td(own(j.name)),
        td(own(j.shopId ?? '—')),
        td(num(j.attemptsMade), 'num'),
        td(own(j.failedReason)),
        td(j.finishedOn ? i18n.dateTime(j.finishedOn) : '—'),
        td(
          isAdmin()
            ? el(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  onclick: () =>
                    api(
                      `/v1/ops/failed-jobs/${encodeURIComponent(j.queue)}/${encodeURIComponent(j.id)}/retry`,
                      { method: 'POST', body: {} },
                    )
                      .then(() => notice(t('admin.jobs.retrying')))
                      .then(loadJobs)
                      .catch(fail),
                },
                t('admin.jobs.retry'),
              )
            : '',
        ),
      ),
    ),
  );
}

// ---- audit log -----------------------------------------------------------

function auditQuery() {
  const params = new URLSearchParams();
  for (const [name, id] of [
    ['from', 'audit-from'],
    ['to', 'audit-to'],
    ['shopId', 'audit-shop'],
    ['actor', 'audit-actor'],
  ])
    if ($(id).value.trim()) params.set(name, $(id).value.trim());
  return `/v1/audit-log?${params}`;
}

async function loadAudit() {
  if (!isAdmin()) return;
  const { entries } = await api(auditQuery());
  table(
    $('audit'),
    [
      [t('admin.audit.when')],
      [t('admin.audit.who')],
      [t('admin.audit.what')],
      [t('admin.col.shop')],
      [t('admin.audit.details')],
    ],
    entries.map((e) =>
      el(
        'tr',
        {},
        td(i18n.dateTime(e.at)),
        td(e.actor.id === 'owner' ? t('admin.deskOwner') : own(e.actor.name)),
        td(i18n.has(`audit.${e.action}`) ? t(`audit.${e.action}`) : own(e.action)),
        td(own(e.shopId ?? '')),
        td(own(JSON.stringify(e.details))),
      ),
    ),
  );
}

// ---- start ---------------------------------------------------------------

function thisMonth() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;
}
/** 'YYYY-MM' → the month before it. */
function monthBefore(month) {
  const [year, number] = month.split('-').map(Number);
  return number === 1 ? `${year - 1}-12` : `${year}-${String(number - 1).padStart(2, '0')}`;
}
function lastMonth() {
  return monthBefore(thisMonth());
}

i18n.apply();
document.title = t('admin.pageTitle');
languageSwitch($('language'), i18n.locale, () => location.reload());
$('shop-platform-filter').replaceChildren(
  el('option', { value: '' }, t('admin.shops.allPlatforms')),
  ...PLATFORMS.map((p) => el('option', { value: p }, t(`platform.${p}`))),
);
$('new-shop-platform').replaceChildren(
  ...PLATFORMS.map((p) => el('option', { value: p }, t(`platform.${p}`))),
);
credentialInputs('generic');
$('report-month').value = thisMonth();
$('close-month').value = lastMonth();

const guardedHandler = (work) => (event) => Promise.resolve(work(event)).catch(fail);
$('tabs').addEventListener('click', (event) => {
  const tab = event.target.closest('button')?.dataset.tab;
  if (tab) showTab(tab).catch(fail);
});
$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  signIn($('operator-token').value.trim()).catch((error) => {
    $('sign-in-error').replaceChildren(...(error.parts ?? [error.message]));
  });
});
$('sign-out').addEventListener('click', () => signOut());
$('shop-new').addEventListener('click', () => {
  $('shop-create').hidden = !$('shop-create').hidden;
});
$('new-shop-platform').addEventListener('change', () =>
  credentialInputs($('new-shop-platform').value),
);
$('shop-create').addEventListener('submit', guardedHandler(createShop));
$('shop-filter').addEventListener('input', guardedHandler(loadShops));
$('shop-platform-filter').addEventListener('change', guardedHandler(loadShops));
$('agent-create').addEventListener('submit', guardedHandler(createAgent));
$('operator-create').addEventListener('submit', guardedHandler(createOperator));
$('report-month').addEventListener('change', guardedHandler(loadReport));
$('report-csv').addEventListener(
  'click',
  guardedHandler(() =>
    downloadCsv(
      `/v1/reports/month?month=${$('report-month').value}`,
      `month-${$('report-month').value}.csv`,
    ),
  ),
);
$('close-preview').addEventListener('click', guardedHandler(previewClose));
$('close-start').addEventListener('click', guardedHandler(startClose));
$('audit-filter').addEventListener('submit', (event) => {
  event.preventDefault();
  loadAudit().catch(fail);
});
$('audit-csv').addEventListener(
  'click',
  guardedHandler(() => downloadCsv(auditQuery(), 'audit-log.csv')),
);

document.body.classList.remove('loading');
if (state.token) signIn(state.token).catch((error) => signOut(error.message));
else signOut();
