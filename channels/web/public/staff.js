// The staff console (`/staff`): login, the handoff queue, a handoff's transcript, what the
// agent understood and the pre-filled form (identifiers masked), and the actions: claim,
// reply (delivered live to the citizen), approve / return the application, close. The staff
// API audits every action.
import { api, ApiError, el, formatTime, formatWaiting, HANDOFF_STATUS_LABEL, REASON_LABEL, STATUS_LABEL } from './common.js';

const $ = (id) => document.getElementById(id);
const STORE_KEY = 'xiaoshen.staff';
const ROLE_LABEL = { citizen: '市民', agent: '小申', staff: '工作人员', system: '系统' };
const SOURCE_LABEL = { profile: '共享数据', ask: '市民填写', derived: '自动生成' };

const state = { token: null, name: null, selected: null, queue: [], pollTimer: null, tickTimer: null, messageTimer: null };

async function call(path, opts = {}) {
  try {
    return await api(path, { ...opts, token: state.token });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403) && path.startsWith('/api/staff')) {
      logout(err.status === 403 ? '该账号不是工作人员账号，请重新登录。' : '登录已过期，请重新登录。');
    }
    throw err;
  }
}

// ---- login --------------------------------------------------------------------------------

async function onLogin(e) {
  e.preventDefault();
  $('login-error').textContent = '';
  try {
    const res = await api('/api/auth/staff-login', {
      method: 'POST', body: { username: $('username').value.trim(), password: $('password').value },
    });
    $('password').value = '';
    if (res.principal?.kind !== 'staff') throw new Error('该账号不是工作人员账号。');
    state.token = res.token;
    state.name = res.principal.name;
    sessionStorage.setItem(STORE_KEY, JSON.stringify({ token: state.token, name: state.name }));
    enterConsole();
  } catch (err) {
    $('login-error').textContent = err.message;
  }
}

function enterConsole() {
  $('login-view').hidden = true;
  $('console').hidden = false;
  $('logout').hidden = false;
  $('staff-name').textContent = `工作人员：${state.name}`;
  void loadQueue();
  state.pollTimer = setInterval(() => void loadQueue(), 5000);
  state.tickTimer = setInterval(tickWaiting, 1000);
  state.messageTimer = setInterval(() => void refreshMessages(), 2000);
}

/** The open case's messages, live: what the citizen says after the handoff appears as they say it. */
async function refreshMessages() {
  const id = state.selected;
  const list = $('messages');
  if (!id || !list) return;
  let h;
  try {
    h = await call(`/api/staff/handoffs/${encodeURIComponent(id)}`);
  } catch {
    return;
  }
  if (state.selected !== id || (h.messages ?? []).length === list.children.length) return;
  list.replaceChildren(...messageItems(h.messages ?? []));
}

function messageItems(messages) {
  return messages.map((m) =>
    el('li', {}, el('span', { class: 'role' }, m.authorName ?? ROLE_LABEL[m.authorKind] ?? m.authorKind), ' ', m.text,
      el('span', { class: 'muted' }, `  ${formatTime(m.createdAt)}`)));
}

function logout(message) {
  clearInterval(state.pollTimer);
  clearInterval(state.tickTimer);
  clearInterval(state.messageTimer);
  sessionStorage.removeItem(STORE_KEY);
  Object.assign(state, { token: null, name: null, selected: null, queue: [] });
  $('queue-body').replaceChildren();
  $('detail-body').replaceChildren();
  $('detail-title').textContent = '请选择一个工单';
  $('console').hidden = true;
  $('logout').hidden = true;
  $('staff-name').textContent = '';
  $('login-view').hidden = false;
  $('login-error').textContent = message ?? '';
  $('username').focus();
}

// ---- queue --------------------------------------------------------------------------------

async function loadQueue() {
  if (!state.token) return;
  try {
    const status = $('queue-filter').value;
    state.queue = await call(`/api/staff/handoffs?status=${encodeURIComponent(status)}`);
    renderQueue();
  } catch (err) {
    $('detail-alert').textContent = err.message;
  }
}

function renderQueue() {
  const body = $('queue-body');
  body.replaceChildren(...state.queue.map((h) => {
    const row = el('tr', { 'data-id': h.id, 'aria-selected': String(h.id === state.selected), onclick: () => void select(h.id) },
      el('td', {}, el('button', { type: 'button', class: 'link', onclick: (e) => { e.stopPropagation(); void select(h.id); } }, h.id)),
      el('td', {}, h.citizen?.name ?? '（未登录）'),
      el('td', {}, h.serviceName ?? '—'),
      el('td', {}, reasonLabel(h), reasonDetail(h) ? el('div', { class: 'muted' }, reasonDetail(h)) : null),
      el('td', { class: 'waiting', 'data-created': h.createdAt, 'data-status': h.status, 'data-seconds': String(h.waitingSeconds) }, formatWaiting(h.waitingSeconds)),
      el('td', {}, el('span', { class: `badge ${h.status}` }, HANDOFF_STATUS_LABEL[h.status] ?? h.status)));
    return row;
  }));
  $('queue-empty').hidden = state.queue.length > 0;
}

function tickWaiting() {
  for (const cell of document.querySelectorAll('td.waiting[data-status="waiting"]')) {
    const created = Date.parse(cell.dataset.created);
    if (!Number.isNaN(created)) cell.textContent = formatWaiting((Date.now() - created) / 1000);
  }
}

// ---- one handoff --------------------------------------------------------------------------

async function select(id) {
  state.selected = id;
  renderQueue();
  $('detail-alert').textContent = '';
  try {
    renderDetail(await call(`/api/staff/handoffs/${encodeURIComponent(id)}`));
    $('detail').focus();
  } catch (err) {
    $('detail-alert').textContent = err.message;
  }
}

function reasonLabel(h) {
  return REASON_LABEL[h.reason] ?? h.reason;
}

/** The reason's own words, unless they only repeat its label ("需人工审核（申请需人工审核）"). */
function reasonDetail(h) {
  const text = (h.reasonText ?? '').trim();
  if (!text) return '';
  const label = reasonLabel(h);
  const bare = (s) => s.replace(/^(申请|市民|本次)/, '').replace(/[。.！!\s]/g, '');
  return bare(text) === bare(label) || label.includes(text) || text.includes(label) && bare(text).length <= bare(label).length + 2 ? '' : text;
}

function kv(pairs) {
  return el('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v]) => [el('dt', {}, k), el('dd', {}, v ?? '—')]));
}

function renderDetail(h) {
  $('detail-title').textContent = `工单 ${h.id}`;
  const form = h.form ?? {};
  const formFields = Array.isArray(form.fields) ? form.fields : [];
  const understanding = h.understanding ?? {};
  const values = understanding.values && typeof understanding.values === 'object' ? understanding.values : {};
  const app = h.application;
  const open = h.status !== 'closed';
  const mine = h.claimedBy && h.claimedBy.name === state.name;

  const replyBox = el('textarea', { id: 'reply-text', rows: '3', maxlength: '4000', 'aria-label': '回复市民的内容' });
  const returnReason = el('input', { id: 'return-reason', type: 'text', maxlength: '1000', 'aria-label': '退回原因（必填）', placeholder: '退回原因（必填），例如：请补充户籍证明' });

  $('detail-body').replaceChildren(...[
    kv([
      ['状态', el('span', { class: `badge ${h.status}` }, HANDOFF_STATUS_LABEL[h.status] ?? h.status)],
      ['原因', reasonDetail(h) ? `${reasonLabel(h)}（${reasonDetail(h)}）` : reasonLabel(h)],
      ['事项', h.serviceName ?? '—'],
      ['等待时长', formatWaiting(h.waitingSeconds)],
      ['创建时间', formatTime(h.createdAt)],
      ['处理人', h.claimedBy?.name ?? '未认领'],
    ]),
    // What to check, from the catalogue's review rule: for staff only, said once, never to the citizen.
    h.staffNote ? el('section', { class: 'staff-note', id: 'staff-note', 'aria-label': '核查要点（仅工作人员可见）' },
      el('h3', {}, '核查要点（仅工作人员可见）'),
      el('p', {}, h.staffNote)) : null,
    el('h3', {}, '市民'),
    kv([
      ['姓名', h.citizen?.name ?? '（未登录）'],
      ['公民身份号码', h.citizenContact?.idNumber ?? '—'],
      ['手机号码', h.citizenContact?.phone ?? '—'],
    ]),
    el('p', { class: 'muted' }, h.unmasked ? '当前为完整视图（已记入审计）。' : '身份证号、手机号已脱敏显示。'),
    h.unmasked ? null : el('div', { class: 'actions-row' },
      el('input', { id: 'full-why', type: 'text', maxlength: '500', 'aria-label': '查看完整信息的理由', placeholder: '如需查看完整号码，请填写理由（记入审计）' }),
      el('button', { type: 'button', class: 'btn small', id: 'full-view', onclick: () => void fullView() }, '查看完整信息')),
    el('h3', {}, '对话记录'),
    el('ol', { class: 'transcript', 'aria-label': '对话记录' }, (h.transcript ?? []).map((t) =>
      el('li', {}, el('span', { class: 'role' }, ROLE_LABEL[t.role] ?? t.role), ' ', t.text))),
    el('h3', {}, '小申的理解'),
    kv([
      ['意图', understanding.act === 'apply' ? '办理' : understanding.act ?? '—'],
      ['事项', h.serviceName ?? understanding.service ?? '—'],
      ...Object.entries(values).map(([k, v]) => [labelOf(formFields, k), String(v)]),
    ]),
    el('h3', {}, '预填表单'),
    formFields.length
      ? el('table', { class: 'queue-table', 'aria-label': '预填表单' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, '字段'), el('th', { scope: 'col' }, '内容'), el('th', { scope: 'col' }, '来源'))),
        el('tbody', {}, formFields.map((f) => el('tr', {}, el('td', {}, f.label ?? f.key), el('td', {}, f.value ?? '（待填写）'), el('td', {}, SOURCE_LABEL[f.source] ?? f.source ?? '')))))
      : el('p', { class: 'muted' }, '无预填表单。'),
    app ? [
      el('h3', {}, '办件'),
      kv([
        ['申请编号', app.id],
        ['状态', el('span', { id: 'application-status' }, STATUS_LABEL[app.status] ?? app.status)],
        ['说明', app.statusMessage],
      ]),
      el('div', { class: 'actions-row' },
        el('button', { type: 'button', class: 'btn primary', id: 'approve', disabled: !canDecide(app, mine), title: mine ? '' : '请先认领工单', onclick: () => void act('approve') }, '审核通过')),
      el('div', { class: 'actions-row' }, returnReason,
        el('button', { type: 'button', class: 'btn danger', id: 'return', disabled: !canDecide(app, mine), title: mine ? '' : '请先认领工单', onclick: () => void act('return') }, '退回')),
    ] : null,
    // 一件事: the whole life event this part belongs to, every department's part with its status.
    h.bundle ? [
      el('h3', {}, `所属“一件事”：${h.bundle.name}（${h.bundle.id}）`),
      el('table', { class: 'queue-table', 'aria-label': '一件事各部门办件' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, '事项'), el('th', { scope: 'col' }, '部门'), el('th', { scope: 'col' }, '申请编号'), el('th', { scope: 'col' }, '状态'))),
        el('tbody', {}, (h.bundle.applications ?? []).map((a) => el('tr', { class: app && a.id === app.id ? 'current' : '' },
          el('td', {}, a.serviceName), el('td', {}, a.department), el('td', {}, a.id), el('td', {}, STATUS_LABEL[a.status] ?? a.status))))),
      (h.bundle.skipped ?? []).length ? el('p', { class: 'muted' }, `未办理：${h.bundle.skipped.map((k) => k.reason).join('；')}`) : null,
    ] : null,
    el('h3', {}, '与市民的消息'),
    el('ol', { class: 'transcript', id: 'messages', 'aria-label': '与市民的消息', 'aria-live': 'polite' }, messageItems(h.messages ?? [])),
    open ? [
      el('div', { class: 'actions-row' },
        el('button', { type: 'button', class: 'btn', id: 'claim', disabled: h.status !== 'waiting', onclick: () => void act('claim') },
          h.status === 'waiting' ? '认领' : mine ? '已认领' : '已被认领')),
      el('label', { for: 'reply-text' }, '回复市民（实时显示在市民的对话中）'),
      replyBox,
      el('div', { class: 'actions-row' },
        el('button', { type: 'button', class: 'btn primary', id: 'send-reply', onclick: () => void act('reply') }, '发送回复'),
        el('button', { type: 'button', class: 'btn', id: 'close', onclick: () => void act('close') }, '结束工单')),
    ] : el('p', { class: 'muted' }, '工单已结束。'),
  ].flat(Infinity).filter(Boolean));
}

/** The unmasked view: only with a reason, which the staff API writes to the audit log. */
async function fullView() {
  const id = state.selected;
  const why = $('full-why')?.value.trim() ?? '';
  $('detail-alert').textContent = '';
  if (why.length < 2) {
    $('detail-alert').textContent = '查看完整信息须填写理由（至少 2 个字）。';
    return;
  }
  try {
    renderDetail(await call(`/api/staff/handoffs/${encodeURIComponent(id)}/full-view`, { method: 'POST', body: { why } }));
    announce('已显示完整信息，本次查看已记入审计。');
  } catch (err) {
    $('detail-alert').textContent = err.message;
  }
}

/** Approve or return: an application still undecided, on a case this staff member has claimed (the server insists too). */
function canDecide(app, mine) {
  return Boolean(mine) && (app.status === 'submitted' || app.status === 'under_review');
}

function labelOf(fields, key) {
  return fields.find((f) => f.key === key)?.label ?? key;
}

async function act(action) {
  const id = state.selected;
  if (!id) return;
  $('detail-alert').textContent = '';
  const h = encodeURIComponent(id);
  try {
    const detail = await call(`/api/staff/handoffs/${h}`);
    const appId = detail.application?.id ? encodeURIComponent(detail.application.id) : null;
    switch (action) {
      case 'claim':
        await call(`/api/staff/handoffs/${h}/claim`, { method: 'POST' });
        announce('已认领。');
        break;
      case 'reply': {
        const text = $('reply-text').value.trim();
        if (!text) throw new Error('请先输入回复内容。');
        await call(`/api/staff/handoffs/${h}/reply`, { method: 'POST', body: { text } });
        announce('回复已发送。');
        break;
      }
      case 'approve':
        if (!appId) return;
        await call(`/api/staff/applications/${appId}/approve`, { method: 'POST', body: {} });
        announce('已审核通过。');
        break;
      case 'return': {
        if (!appId) return;
        const reason = $('return-reason').value.trim();
        if (!reason) throw new Error('退回申请须填写原因。');
        await call(`/api/staff/applications/${appId}/return`, { method: 'POST', body: { reason } });
        announce('已退回。');
        break;
      }
      case 'close':
        await call(`/api/staff/handoffs/${h}/close`, { method: 'POST', body: {} });
        announce('工单已结束。');
        break;
    }
    renderDetail(await call(`/api/staff/handoffs/${h}`));
    void loadQueue();
  } catch (err) {
    $('detail-alert').textContent = err.message;
  }
}

function announce(text) {
  $('detail-status').textContent = text;
}

// ---- start --------------------------------------------------------------------------------

function main() {
  $('login-form').addEventListener('submit', (e) => void onLogin(e));
  $('logout').addEventListener('click', () => logout());
  $('refresh').addEventListener('click', () => void loadQueue());
  $('queue-filter').addEventListener('change', () => void loadQueue());
  const saved = JSON.parse(sessionStorage.getItem(STORE_KEY) ?? 'null');
  if (saved?.token) {
    state.token = saved.token;
    state.name = saved.name;
    enterConsole();
  } else {
    $('username').focus();
  }
}

main();
