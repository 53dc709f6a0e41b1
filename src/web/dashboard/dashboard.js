// The owner dashboard. Every piece of text reaches the page through
// textContent or setAttribute (never innerHTML): buyer ids and plan
// descriptions are untrusted. The owner key lives in sessionStorage only.
// Words come from the locale's catalog (../i18n); numbers, money, dates and
// durations go through Intl in the owner's language.
import { chosenLocale, languageSwitch, loadI18n } from '/i18n/i18n.js';

const KEY = 'seatmate.ownerKey';
const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);

const i18n = await loadI18n(chosenLocale());
const t = (key, vars) => i18n.t(key, vars);

const state = {
  token: sessionStorage.getItem(KEY),
  shop: null,
  month: null,
  csvUrl: null,
  /** The month last drawn, so the chart can be redrawn at the new width. */
  chart: null,
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs))
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  for (const child of children)
    node.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

const money = (fen) => i18n.money(fen);
const pct = (rate) => (rate === null || rate === undefined ? '—' : i18n.percent(rate, 1));
const num = (value, digits = 0) =>
  value === null || value === undefined
    ? '—'
    : i18n.number(value, { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** A percentage stated in a plan (3.5 → "3.5%"). */
const planPercent = (value) =>
  i18n.number(value / 100, { style: 'percent', maximumFractionDigits: 2 });

async function api(path, accept = 'application/json') {
  let res;
  try {
    res = await fetch(path, { headers: { authorization: `Bearer ${state.token}`, accept } });
  } catch {
    // The browser's own words ("Failed to fetch") are English: say it in the owner's language.
    throw new Error(t('error.network'));
  }
  if (res.status === 401) {
    signOut(t('dashboard.keyUnknown'));
    throw new Error('unauthorized');
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    const code = body?.error?.code;
    throw new Error(
      code && i18n.has(`error.${code}`)
        ? t(`error.${code}`)
        : t('error.status', { status: String(res.status) }),
    );
  }
  return accept === 'application/json' ? res.json() : res;
}

/** CSV as bytes, not text: reading it as text would drop the UTF-8 BOM Excel needs for Chinese. */
async function csvBlob(path) {
  const res = await api(path, 'text/csv');
  return new Blob([await res.arrayBuffer()], { type: 'text/csv;charset=utf-8' });
}

function signOut(message = '') {
  sessionStorage.removeItem(KEY);
  state.token = null;
  $('app').hidden = true;
  $('who').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  // Text, or nodes (a link to the page a pasted token belongs to).
  $('sign-in-error').replaceChildren(...(Array.isArray(message) ? message : [message]));
}

async function signIn(token) {
  state.token = token;
  const me = await api('/v1/me');
  if (me.kind !== 'owner')
    throw Object.assign(new Error(t('dashboard.notOwner')), {
      parts: i18n.wrongPage(t('dashboard.notOwner'), me.kind),
    });
  sessionStorage.setItem(KEY, token);
  state.shop = me.shop;
  $('shop-name').textContent = me.shop.name;
  $('shop-zone').textContent = me.shop.timezone;
  $('who').hidden = false;
  $('sign-out').hidden = false;
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('month').value = me.shop.currentMonth;
  await Promise.all([loadMonth(me.shop.currentMonth), loadWidget()]);
}

/** A web shop's one-line snippet, for the owner to paste into their site. */
async function loadWidget() {
  const shop = await api(`/v1/shops/${encodeURIComponent(state.shop.id)}`).catch(() => null);
  $('widget-card').hidden = !shop?.snippet;
  if (shop?.snippet) $('widget-snippet').textContent = shop.snippet;
}

async function loadMonth(month) {
  state.month = month;
  $('load-error').textContent = '';
  try {
    const base = `/v1/shops/${encodeURIComponent(state.shop.id)}`;
    const [usage, invoices, invoice] = await Promise.all([
      api(`${base}/usage?month=${month}`),
      api(`${base}/invoices`),
      api(`${base}/invoices/${month}`).catch(() => null),
    ]);
    renderFigures(usage);
    state.chart = { usage, plan: invoice?.plan ?? null };
    renderChart();
    renderEstimate(usage.estimate);
    renderInvoices(invoices.invoices);
    const busiest = [...usage.days].sort((a, b) => b.consultations - a.consultations)[0];
    const day = busiest && busiest.consultations > 0 ? busiest.date : `${month}-01`;
    $('audit-date').value = day;
    await loadAudit(day);
  } catch (error) {
    $('load-error').textContent = error.message;
  }
}

function renderFigures(u) {
  const figures = [
    ['dashboard.consultations', i18n.number(u.consultations), 'consultations'],
    ['dashboard.receptions', i18n.number(u.receptions), 'receptions'],
    ['dashboard.averageDaily', num(u.averageDaily, 2), 'average-daily'],
    [
      'dashboard.firstResponse',
      u.firstResponse.averageSeconds === null ? '—' : i18n.duration(u.firstResponse.averageSeconds),
      'first-response',
    ],
    ['dashboard.within3Min', pct(u.firstResponse.within3MinRate), 'within-3-min'],
    ['dashboard.conversion', pct(u.conversionRate), 'conversion'],
    [
      'dashboard.satisfaction',
      u.satisfaction === null ? '—' : t('dashboard.outOfFive', { score: num(u.satisfaction, 2) }),
      'satisfaction',
    ],
    ['dashboard.estimate', u.estimate ? money(u.estimate.totalFen) : '—', 'estimate-total'],
  ];
  $('figures').replaceChildren(
    ...figures.map(([label, value, id]) =>
      el(
        'div',
        { class: 'figure', 'data-figure': id },
        el('div', { class: 'value' }, value),
        el('div', { class: 'label' }, t(label)),
      ),
    ),
  );
}

const chartWidth = () => Math.max(280, Math.round($('chart').clientWidth || 960));

/**
 * The y axis: 0 and round steps (1, 2 or 5 × 10ⁿ), at most four, the top one
 * above `highest`. An owner reads "0 50 100 150", not "0 57 115".
 */
function axisTicks(highest) {
  const want = Math.max(1, highest * 1.05);
  for (let power = 1; ; power *= 10)
    for (const unit of [1, 2, 5]) {
      const step = unit * power;
      const count = Math.ceil(want / step);
      if (count <= 4) return Array.from({ length: count + 1 }, (_, i) => i * step);
    }
}

/**
 * Drawn at the chart's real width in CSS pixels (not scaled from a fixed
 * canvas), so its 12 px labels stay 12 px on a phone; redrawn on resize.
 */
function renderChart() {
  if (!state.chart) return;
  const { usage, plan } = state.chart;
  const W = chartWidth();
  const H = W < 600 ? 220 : 300;
  const pad = { left: 40, right: 8, top: 16, bottom: 24 };
  const tiers =
    plan?.model === 'tiered'
      ? plan.tiers.map((tier) => tier.upToAverageDaily).filter((v) => v !== null)
      : [];
  const ticks = axisTicks(
    Math.max(...usage.days.map((d) => d.consultations), usage.averageDaily, ...tiers),
  );
  const max = ticks.at(-1);
  const y = (v) => pad.top + (H - pad.top - pad.bottom) * (1 - v / max);
  const slot = (W - pad.left - pad.right) / usage.days.length;
  const bar = Math.max(1, slot / 2 - 1);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    width: W,
    height: H,
    role: 'img',
    'aria-label': t('dashboard.chartLabel', { month: i18n.day(usage.month) }),
  });
  root.append(svg('line', { class: 'axis', x1: pad.left, x2: W - pad.right, y1: y(0), y2: y(0) }));
  for (const tick of ticks) {
    root.append(
      svg(
        'text',
        { class: 'tick', x: pad.left - 6, y: y(tick) + 4, 'text-anchor': 'end' },
        i18n.number(tick),
      ),
    );
  }
  // Day labels at least 28 px apart: every 5th day on a desk, every 7th on a phone.
  const every = slot * 5 >= 28 ? 5 : 7;
  usage.days.forEach((d, i) => {
    const x = pad.left + i * slot;
    const c = svg('rect', {
      class: 'bar-c',
      'data-date': d.date,
      x: x + 1,
      y: y(d.consultations),
      width: bar,
      height: y(0) - y(d.consultations),
    });
    c.append(
      svg(
        'title',
        {},
        t('dashboard.barConsultations', { day: i18n.day(d.date), count: d.consultations }),
      ),
    );
    const r = svg('rect', {
      class: 'bar-r',
      'data-date': d.date,
      x: x + 1 + bar,
      y: y(d.receptions),
      width: bar,
      height: y(0) - y(d.receptions),
    });
    r.append(
      svg(
        'title',
        {},
        t('dashboard.barReceptions', { day: i18n.day(d.date), count: d.receptions }),
      ),
    );
    root.append(c, r);
    if (i % every === 0 || i === usage.days.length - 1)
      root.append(
        svg(
          'text',
          { x: x + slot / 2, y: H - 6, 'text-anchor': 'middle' },
          i18n.number(Number(d.date.slice(8))),
        ),
      );
  });
  for (const bound of tiers) {
    root.append(
      svg('line', { class: 'tier', x1: pad.left, x2: W - pad.right, y1: y(bound), y2: y(bound) }),
    );
    root.append(
      svg(
        'text',
        { x: W - pad.right, y: y(bound) - 4, 'text-anchor': 'end' },
        t('dashboard.tierBound', { bound: i18n.number(bound) }),
      ),
    );
  }
  root.append(
    svg('line', {
      class: 'avg',
      x1: pad.left,
      x2: W - pad.right,
      y1: y(usage.averageDaily),
      y2: y(usage.averageDaily),
    }),
  );
  // Tier labels sit above their lines at the right; the average's label goes in the middle, clear of them.
  root.append(
    svg(
      'text',
      {
        class: 'avg-label',
        x: (W + pad.left) / 2,
        y: y(usage.averageDaily) - 5,
        'text-anchor': 'middle',
      },
      t('dashboard.averageLine', { average: num(usage.averageDaily, 2) }),
    ),
  );
  $('chart').replaceChildren(root);
}

/**
 * An invoice line in the owner's language. The service writes its
 * descriptions in English; other languages rebuild them from the line's kind
 * and figures (the English text stays the authority in the CSV).
 */
function lineDescription(line) {
  if (i18n.locale === 'en') return line.description;
  const vars = {
    quantity: i18n.number(line.quantity),
    unit: money(line.unitFen),
    percent: line.percent === undefined ? '' : planPercent(line.percent),
    month: /\b(\d{4}-\d{2})\b/.exec(line.description)?.[1] ?? '',
  };
  const variant =
    (line.kind === 'holdback' || line.kind === 'performance') && line.quantity === 0
      ? `${line.kind}.none`
      : line.kind;
  const key = `invoiceLine.${variant}`;
  return i18n.has(key) ? t(key, vars) : line.description;
}

function linesTable(lines, totalFen) {
  const head = el(
    'thead',
    {},
    el(
      'tr',
      {},
      el('th', {}, t('dashboard.line')),
      el('th', { class: 'num' }, t('dashboard.quantity')),
      el('th', { class: 'num' }, t('dashboard.unit')),
      el('th', { class: 'num' }, t('dashboard.amount')),
    ),
  );
  const body = el(
    'tbody',
    {},
    ...lines.map((l) =>
      el(
        'tr',
        { 'data-kind': l.kind },
        el('td', {}, lineDescription(l)),
        el(
          'td',
          { class: 'num' },
          l.percent === undefined
            ? i18n.number(l.quantity)
            : `${i18n.number(l.quantity)} × ${planPercent(l.percent)}`,
        ),
        el('td', { class: 'num' }, money(l.unitFen)),
        el('td', { class: 'num' }, money(l.amountFen)),
      ),
    ),
  );
  const foot = el(
    'tfoot',
    {},
    el(
      'tr',
      {},
      el('td', { colspan: 3 }, t('dashboard.total')),
      el('td', { class: 'num', 'data-total': '' }, money(totalFen)),
    ),
  );
  return [head, body, foot];
}

const statusText = (status) => t(`dashboard.status.${status}`);

function renderEstimate(estimate) {
  const status = $('estimate-status');
  status.textContent = estimate ? statusText(estimate.status) : t('dashboard.noPlan');
  status.dataset.status = estimate ? estimate.status : 'none';
  $('estimate').replaceChildren(
    ...(estimate
      ? linesTable(estimate.lines, estimate.totalFen)
      : [el('tbody', {}, el('tr', {}, el('td', {}, t('dashboard.noPlanMonth'))))]),
  );
}

function renderInvoices(invoices) {
  const rows = invoices.map((inv) => {
    const button = el(
      'button',
      {
        type: 'button',
        'data-month': inv.month,
        'aria-label': t('dashboard.invoiceCsv', { month: i18n.day(inv.month) }),
      },
      t('dashboard.csv'),
    );
    button.addEventListener('click', () =>
      downloadCsv(
        `/v1/shops/${encodeURIComponent(state.shop.id)}/invoices/${inv.month}`,
        `invoice-${inv.month}-${inv.status}.csv`,
      ),
    );
    return el(
      'tr',
      { 'data-month': inv.month },
      el('td', {}, i18n.day(inv.month)),
      el('td', { 'data-status': inv.status }, statusText(inv.status)),
      el('td', { class: 'num' }, money(inv.totalFen)),
      el('td', { class: 'num' }, button),
    );
  });
  $('invoices').replaceChildren(
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', {}, t('dashboard.month')),
        el('th', {}, t('dashboard.statusHeading')),
        el('th', { class: 'num' }, t('dashboard.total')),
        el('th', {}),
      ),
    ),
    el(
      'tbody',
      {},
      ...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 4 }, t('dashboard.noInvoices')))]),
    ),
  );
}

async function downloadCsv(path, filename) {
  const link = el('a', { href: URL.createObjectURL(await csvBlob(path)), download: filename });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

async function loadAudit(date) {
  const path = `/v1/shops/${encodeURIComponent(state.shop.id)}/consultations?date=${date}`;
  const [audit, csv] = await Promise.all([api(path), csvBlob(path)]);
  const zone = audit.timezone ?? state.shop.timezone;
  $('audit').replaceChildren(
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', {}, t('dashboard.buyer')),
        el('th', {}, t('dashboard.firstMessage')),
        el('th', { class: 'num' }, t('dashboard.firstResponse')),
        el('th', {}, t('dashboard.converted')),
      ),
    ),
    el(
      'tbody',
      {},
      ...(audit.consultations.length
        ? audit.consultations.map((r) =>
            el(
              'tr',
              {},
              el('td', { translate: 'no' }, r.buyer),
              el('td', { 'data-at': r.firstMessageAt }, i18n.dateTime(r.firstMessageAt, zone)),
              el(
                'td',
                { class: 'num', 'data-seconds': r.firstResponseSeconds ?? '' },
                r.firstResponseSeconds === null
                  ? t('dashboard.noReply')
                  : i18n.duration(r.firstResponseSeconds),
              ),
              el('td', {}, t(r.converted ? 'dashboard.yes' : 'dashboard.no')),
            ),
          )
        : [el('tr', {}, el('td', { colspan: 4 }, t('dashboard.noConsultations')))]),
    ),
  );
  if (state.csvUrl) URL.revokeObjectURL(state.csvUrl);
  state.csvUrl = URL.createObjectURL(csv);
  const link = $('audit-csv');
  link.href = state.csvUrl;
  link.download = `consultations-${date}.csv`;
  link.hidden = false;
}

$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  signIn($('owner-key').value.trim()).catch((error) => {
    if (error.message !== 'unauthorized') signOut(error.parts ?? error.message);
  });
});
$('sign-out').addEventListener('click', () => signOut());
$('month').addEventListener(
  'change',
  (event) => event.target.value && loadMonth(event.target.value),
);
$('audit-date').addEventListener(
  'change',
  (event) =>
    event.target.value &&
    loadAudit(event.target.value).catch((error) => {
      $('load-error').textContent = error.message;
    }),
);
new ResizeObserver(() => {
  const drawn = $('chart').firstElementChild?.getAttribute('width');
  if (state.chart && drawn !== String(chartWidth())) renderChart();
}).observe($('chart'));
languageSwitch($('language'), i18n.locale, () => location.reload());
i18n.apply();
document.title = t('dashboard.pageTitle');
document.body.classList.remove('loading');

// A key revoked since the last visit (or the service unreachable) says why the sign-in is shown again.
if (state.token)
  signIn(state.token).catch((error) => {
    if (error.message !== 'unauthorized') signOut(error.message);
  });
else signOut();

$('widget-copy').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText($('widget-snippet').textContent);
    $('widget-copied').textContent = t('dashboard.copied');
  } catch {
    // No clipboard permission: select the text so the owner can copy it by hand.
    getSelection()?.selectAllChildren($('widget-snippet'));
  }
});
