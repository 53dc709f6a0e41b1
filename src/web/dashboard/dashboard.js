// The owner dashboard. Every piece of text reaches the page through
// textContent or setAttribute (never innerHTML): buyer ids and plan
// descriptions are untrusted. The owner key lives in sessionStorage only.
const KEY = 'seatmate.ownerKey';
const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);

const state = { token: sessionStorage.getItem(KEY), shop: null, month: null, csvUrl: null };

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

/** Integer fen as yuan, by integer arithmetic (no float rounding): -5300 → "-¥53.00". */
function money(fen) {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const yuan = Math.floor(abs / 100).toLocaleString('en-US');
  return `${sign}¥${yuan}.${String(abs % 100).padStart(2, '0')}`;
}
const pct = (rate) => (rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`);
const num = (value, digits = 0) =>
  value === null || value === undefined ? '—' : Number(value).toFixed(digits);

async function api(path, accept = 'application/json') {
  const res = await fetch(path, { headers: { authorization: `Bearer ${state.token}`, accept } });
  if (res.status === 401) {
    signOut('That key is unknown or was revoked.');
    throw new Error('unauthorized');
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  }
  return accept === 'application/json' ? res.json() : res.text();
}

function signOut(message = '') {
  sessionStorage.removeItem(KEY);
  state.token = null;
  $('app').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
}

async function signIn(token) {
  state.token = token;
  const me = await api('/v1/me');
  if (me.kind !== 'owner') throw new Error('This page is for shop owners: paste an owner key.');
  sessionStorage.setItem(KEY, token);
  state.shop = me.shop;
  $('shop-name').textContent = me.shop.name;
  $('shop-zone').textContent = me.shop.timezone;
  $('who').hidden = false;
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('month').value = me.shop.currentMonth;
  await loadMonth(me.shop.currentMonth);
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
    renderChart(usage, invoice?.plan ?? null);
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
    ['Consultations', u.consultations, 'consultations'],
    ['Receptions', u.receptions, 'receptions'],
    ['Average daily', num(u.averageDaily, 2), 'average-daily'],
    [
      'Avg first response',
      u.firstResponse.averageSeconds === null ? '—' : `${num(u.firstResponse.averageSeconds, 1)} s`,
      'first-response',
    ],
    ['Answered within 3 min', pct(u.firstResponse.within3MinRate), 'within-3-min'],
    ['Inquiry conversion', pct(u.conversionRate), 'conversion'],
    [
      'Satisfaction',
      u.satisfaction === null ? '—' : `${num(u.satisfaction, 2)} / 5`,
      'satisfaction',
    ],
    ['Estimate', u.estimate ? money(u.estimate.totalFen) : '—', 'estimate-total'],
  ];
  $('figures').replaceChildren(
    ...figures.map(([label, value, id]) =>
      el(
        'div',
        { class: 'figure', 'data-figure': id },
        el('div', { class: 'value' }, value),
        el('div', { class: 'label' }, label),
      ),
    ),
  );
}

function renderChart(usage, plan) {
  const W = 960;
  const H = 300;
  const pad = { left: 40, right: 12, top: 12, bottom: 28 };
  const tiers =
    plan?.model === 'tiered'
      ? plan.tiers.map((t) => t.upToAverageDaily).filter((v) => v !== null)
      : [];
  const max =
    Math.max(1, ...usage.days.map((d) => d.consultations), usage.averageDaily, ...tiers) * 1.1;
  const y = (v) => pad.top + (H - pad.top - pad.bottom) * (1 - v / max);
  const slot = (W - pad.left - pad.right) / usage.days.length;
  const bar = Math.max(1, slot / 2 - 1);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-label': `Daily consultations and receptions, ${usage.month}`,
  });
  root.append(svg('line', { class: 'axis', x1: pad.left, x2: W - pad.right, y1: y(0), y2: y(0) }));
  for (const tick of [0, 0.5, 1].map((f) => Math.round(max * f))) {
    root.append(svg('text', { x: pad.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, tick));
  }
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
    c.append(svg('title', {}, `${d.date}: ${d.consultations} consultations`));
    const r = svg('rect', {
      class: 'bar-r',
      'data-date': d.date,
      x: x + 1 + bar,
      y: y(d.receptions),
      width: bar,
      height: y(0) - y(d.receptions),
    });
    r.append(svg('title', {}, `${d.date}: ${d.receptions} receptions`));
    root.append(c, r);
    if (i % 5 === 0 || i === usage.days.length - 1)
      root.append(
        svg('text', { x: x + slot / 2, y: H - 8, 'text-anchor': 'middle' }, d.date.slice(8)),
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
        `tier bound ${bound}/day`,
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
      `average ${num(usage.averageDaily, 2)}/day`,
    ),
  );
  $('chart').replaceChildren(root);
}

function linesTable(lines, totalFen) {
  const head = el(
    'thead',
    {},
    el(
      'tr',
      {},
      el('th', {}, 'Line'),
      el('th', { class: 'num' }, 'Qty'),
      el('th', { class: 'num' }, 'Unit'),
      el('th', { class: 'num' }, 'Amount'),
    ),
  );
  const body = el(
    'tbody',
    {},
    ...lines.map((l) =>
      el(
        'tr',
        { 'data-kind': l.kind },
        el('td', {}, l.description),
        el(
          'td',
          { class: 'num' },
          l.percent === undefined ? l.quantity : `${l.quantity} × ${l.percent}%`,
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
      el('td', { colspan: 3 }, 'Total'),
      el('td', { class: 'num', 'data-total': '' }, money(totalFen)),
    ),
  );
  return [head, body, foot];
}

function renderEstimate(estimate) {
  $('estimate-status').textContent = estimate ? estimate.status : 'no plan';
  $('estimate').replaceChildren(
    ...(estimate
      ? linesTable(estimate.lines, estimate.totalFen)
      : [el('tbody', {}, el('tr', {}, el('td', {}, 'The shop has no plan for this month.')))]),
  );
}

function renderInvoices(invoices) {
  const rows = invoices.map((inv) => {
    const button = el('button', { type: 'button', 'data-month': inv.month }, 'CSV');
    button.addEventListener('click', () =>
      downloadCsv(
        `/v1/shops/${encodeURIComponent(state.shop.id)}/invoices/${inv.month}`,
        `invoice-${inv.month}-${inv.status}.csv`,
      ),
    );
    return el(
      'tr',
      { 'data-month': inv.month },
      el('td', {}, inv.month),
      el('td', {}, inv.status),
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
        el('th', {}, 'Month'),
        el('th', {}, 'Status'),
        el('th', { class: 'num' }, 'Total'),
        el('th', {}),
      ),
    ),
    el(
      'tbody',
      {},
      ...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 4 }, 'No invoices yet.'))]),
    ),
  );
}

async function downloadCsv(path, filename) {
  const text = await api(path, 'text/csv');
  const link = el('a', {
    href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })),
    download: filename,
  });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

async function loadAudit(date) {
  const path = `/v1/shops/${encodeURIComponent(state.shop.id)}/consultations?date=${date}`;
  const [audit, csv] = await Promise.all([api(path), api(path, 'text/csv')]);
  $('audit').replaceChildren(
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', {}, 'Buyer'),
        el('th', {}, 'First message'),
        el('th', { class: 'num' }, 'First response'),
        el('th', {}, 'Converted'),
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
              el('td', {}, r.buyer),
              el('td', {}, r.firstMessageAt),
              el(
                'td',
                { class: 'num' },
                r.firstResponseSeconds === null ? 'no reply' : `${r.firstResponseSeconds} s`,
              ),
              el('td', {}, r.converted ? 'yes' : 'no'),
            ),
          )
        : [el('tr', {}, el('td', { colspan: 4 }, 'No consultations that day.'))]),
    ),
  );
  if (state.csvUrl) URL.revokeObjectURL(state.csvUrl);
  state.csvUrl = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
  const link = $('audit-csv');
  link.href = state.csvUrl;
  link.download = `consultations-${date}.csv`;
  link.hidden = false;
}

$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  signIn($('owner-key').value.trim()).catch((error) => {
    if (error.message !== 'unauthorized') signOut(error.message);
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
    loadAudit(event.target.value).catch((error) => ($('load-error').textContent = error.message)),
);

if (state.token) signIn(state.token).catch(() => signOut());
else signOut();
