// The citizen app chat (`/`): sandbox login, chat over the session WebSocket with streamed
// replies and cards, push-to-talk, 我的办件 and 卡包.
import {
  api, el, formatTime, icon, loadGuide, PushToTalk, renderCard, renderCitations, renderGuide, sendAudioClip,
  SessionSocket, STATUS_LABEL, HANDOFF_STATUS_LABEL, updateHandoffCards,
} from './common.js';

const $ = (id) => document.getElementById(id);
const STORE_KEY = 'xiaoshen.app';

const state = {
  token: null,
  name: null,
  sessionId: null,
  socket: null,
  voice: null,
  streamingBubble: null,
  seenStaff: new Set(),
  recorder: null,
};

// ---- login ------------------------------------------------------------------------------

async function showLogin() {
  $('chat-view').hidden = true;
  $('login-view').hidden = false;
  $('logout').hidden = true;
  $('whoami').textContent = '';
  const list = $('citizen-list');
  list.replaceChildren();
  try {
    const config = await api('/api/web/config');
    if (!config.sandbox || !config.citizens?.length) {
      list.append(el('li', {}, '沙箱登录未开放，请使用随申办实名登录。'));
      return;
    }
    for (const c of config.citizens) {
      list.append(el('li', {}, el('button', { type: 'button', class: 'btn', 'data-citizen': c.id, onclick: () => login(c.id) },
        c.name, el('span', { class: 'hint' }, c.hint ?? ''))));
    }
    list.querySelector('button')?.focus();
  } catch (err) {
    $('login-error').textContent = err.message;
  }
}

async function login(citizenId) {
  $('login-error').textContent = '';
  try {
    const res = await api('/api/auth/sandbox-login', { method: 'POST', body: { citizenId } });
    state.token = res.token;
    state.name = res.principal?.name ?? '';
    await startSession();
  } catch (err) {
    $('login-error').textContent = err.message;
  }
}

async function startSession(existing) {
  let sessionId = existing ?? null;
  if (sessionId) {
    try {
      const view = await api(`/api/sessions/${encodeURIComponent(sessionId)}`, { token: state.token });
      if (view.endedAt) sessionId = null;
      else restoreTurns(view.turns ?? []);
    } catch {
      sessionId = null;
    }
  }
  if (!sessionId) {
    const res = await api('/api/sessions', { method: 'POST', token: state.token, body: { channel: 'app' } });
    sessionId = res.sessionId;
    $('log').replaceChildren();
    // The agent speaks first: a greeting and, from shared data, what can be had without applying.
    const opening = await api(`/api/sessions/${encodeURIComponent(sessionId)}/opening`, { method: 'POST', token: state.token }).catch(() => null);
    if (opening) addAgentTurn(opening, { interactive: true });
    else addMessage('agent', `您好${state.name ? `，${state.name}` : ''}！我是小申，一网通办智能助手。请直接告诉我您想办什么事，例如「我要开无犯罪记录证明」。`);
  }
  state.sessionId = sessionId;
  sessionStorage.setItem(STORE_KEY, JSON.stringify({ token: state.token, name: state.name, sessionId }));
  $('login-view').hidden = true;
  $('chat-view').hidden = false;
  $('logout').hidden = false;
  $('whoami').textContent = `已登录：${state.name}`;
  connect();
  // Opens at the newest message (a restored conversation too), with the cursor in the input.
  $('composer-input').focus({ preventScroll: true });
  scrollDown({ instant: true });
}

function restoreTurns(turns) {
  const log = $('log');
  log.replaceChildren();
  turns.forEach((t, i) => {
    if (!t.opening) addMessage('citizen', t.text);
    const last = i === turns.length - 1;
    addAgentTurn(t.turn, { interactive: last });
  });
}

async function logout() {
  const { token, sessionId } = state;
  state.socket?.close();
  state.recorder?.cancel();
  state.socket = null;
  if (token && sessionId) await api(`/api/sessions/${encodeURIComponent(sessionId)}`, { method: 'DELETE', token }).catch(() => {});
  // The login token is taken back on the server too, not only forgotten here.
  if (token) await api('/api/auth/logout', { method: 'POST', token }).catch(() => {});
  sessionStorage.removeItem(STORE_KEY);
  Object.assign(state, { token: null, name: null, sessionId: null, streamingBubble: null, seenStaff: new Set() });
  $('log').replaceChildren();
  $('applications').replaceChildren();
  $('licences').replaceChildren();
  selectTab('tab-chat');
  await showLogin();
}

// ---- the socket -------------------------------------------------------------------------

function connect() {
  state.socket?.close();
  state.socket = new SessionSocket({
    sessionId: state.sessionId,
    token: state.token,
    onFrame,
    onStatus: (s) => {
      if (s === 'reconnecting') setAlert('连接中断，正在重新连接…');
      else if (s === 'open') setAlert('');
      else if (s === 'gone') setAlert('会话已失效，请退出后重新登录。');
    },
  });
  state.socket.connect();
}

function onFrame(frame) {
  switch (frame.type) {
    case 'state':
      $('thinking').hidden = false;
      break;
    case 'transcript':
      addMessage('citizen', frame.text, { voice: true });
      break;
    case 'delta':
      // The reply as it is released; the turn that follows carries the whole of it.
      if (!state.streamingBubble) state.streamingBubble = addMessage('agent', '', { streaming: true });
      state.streamingBubble.querySelector('.bubble').textContent += frame.text;
      scrollDown();
      break;
    case 'turn':
      $('thinking').hidden = true;
      addAgentTurn(frame.turn, { interactive: true, into: state.streamingBubble });
      state.streamingBubble = null;
      if (frame.turn.application) refreshApplications();
      break;
    case 'staff_message':
      if (state.seenStaff.has(frame.message.id)) break;
      state.seenStaff.add(frame.message.id);
      addMessage(frame.message.author === 'system' ? 'system' : 'staff', frame.message.text, {
        from: frame.message.author === 'system' ? '人工服务' : (frame.message.authorName ?? '人工客服'),
      });
      break;
    case 'handoff':
      updateHandoffCards($('log'), frame.handoff);
      addMessage('system', frame.handoff.status === 'claimed'
        ? `工作人员已接单（${frame.handoff.id}），请稍候。`
        : `人工服务${HANDOFF_STATUS_LABEL[frame.handoff.status] ?? frame.handoff.status}（${frame.handoff.id}）。`, { from: '人工服务' });
      break;
    case 'application': {
      const a = frame.application;
      addMessage('system', `您的「${a.serviceName}」（编号 ${a.id}）状态更新：${STATUS_LABEL[a.status] ?? a.status}。${a.statusMessage ?? ''}`, { from: '办件通知' });
      refreshApplications();
      if (a.status === 'issued') refreshLicences();
      break;
    }
    case 'error':
      $('thinking').hidden = true;
      if (state.streamingBubble) {
        state.streamingBubble.remove();
        state.streamingBubble = null;
      }
      setAlert(frame.error?.message ?? '系统繁忙，请稍后再试。');
      break;
    default:
      break;
  }
}

/** Sends what the citizen typed or pressed; a card's button carries its card's token (a stale card is refused). */
function send(text, { cardToken } = {}) {
  const clean = String(text ?? '').trim();
  if (!clean || !state.socket) return;
  setAlert('');
  addMessage('citizen', clean);
  state.socket.send({ type: 'message', text: clean, stream: true, ...(cardToken ? { cardToken } : {}) });
}

/** Sends recorded (or provided) audio over the socket, as push-to-talk does. */
function sendAudio(bytes, format) {
  if (!state.socket) return;
  setAlert('');
  $('thinking').hidden = false;
  sendAudioClip(state.socket, bytes, { format, stream: true });
}

// ---- rendering --------------------------------------------------------------------------

function addMessage(role, text, { streaming = false, voice = false, from } = {}) {
  const who = from ?? { citizen: '我', agent: '小申', staff: '人工客服', system: '通知' }[role];
  const li = el('li', { class: `msg ${role}${streaming ? ' streaming' : ''}` },
    el('div', { class: 'from' }, voice ? [`${who} · `, icon('mic'), '语音'] : who),
    el('div', { class: 'bubble' }, text));
  if (streaming) li.setAttribute('aria-busy', 'true');
  $('log').append(li);
  scrollDown();
  return li;
}

function addAgentTurn(turn, { interactive, into } = {}) {
  // A message passed to staff during a live handoff: the agent says nothing, so nothing is shown.
  if (!turn.reply && !turn.card) {
    into?.remove();
    return;
  }
  const li = into ?? addMessage('agent', '');
  li.classList.remove('streaming');
  li.removeAttribute('aria-busy');
  li.querySelector('.bubble').textContent = turn.reply;
  const card = renderCard(turn.card, { send, openGuide });
  // A new turn makes the cards before it stale: they no longer answer anything (the server
  // refuses their tokens too), so their buttons are disabled and they say so.
  if (interactive) retireCards();
  if (card) {
    if (!interactive) card.querySelectorAll('button').forEach((b) => (b.disabled = true));
    li.append(card);
  }
  if (turn.card?.type !== 'guide') {
    const cites = renderCitations(turn.citations, openGuide);
    if (cites) li.append(cites);
  }
  scrollDown();
}

/** Disables the buttons of every action card already in the conversation (guides stay open). */
function retireCards() {
  for (const c of $('log').querySelectorAll('.card:not(.card-guide):not(.card-stale)')) {
    const buttons = [...c.querySelectorAll('button')];
    if (!buttons.length) continue;
    c.classList.add('card-stale');
    for (const b of buttons) {
      b.disabled = true;
      if (b.getAttribute('aria-pressed') !== 'true') b.title = '这张卡片已过期，请看最新的消息';
    }
  }
}

/**
 * Brings the newest message into view above the input bar. The bar (.dock) is sticky at the
 * bottom of the screen, so scrolling the page to its end leaves the newest message, and its
 * card's buttons, just above it (scrollIntoView({block: 'end'}) put them under the bar).
 */
function scrollDown({ instant = false } = {}) {
  if ($('chat-view').hidden) return;
  const smooth = !instant && !matchMedia('(prefers-reduced-motion: reduce)').matches;
  window.scrollTo({ top: document.documentElement.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
}

/**
 * The input bar grows when a notice or 小申正在思考… shows in it. If the conversation was at
 * its newest message, it stays there, rather than the bar growing over the newest buttons.
 */
function keepNewestAboveDock() {
  const dock = document.querySelector('.dock');
  if (!dock || typeof ResizeObserver === 'undefined') return;
  let atEnd = true;
  const measure = () => {
    atEnd = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 8;
  };
  window.addEventListener('scroll', measure, { passive: true });
  let height = dock.offsetHeight;
  new ResizeObserver(() => {
    const grew = dock.offsetHeight > height;
    height = dock.offsetHeight;
    if (grew && atEnd) scrollDown({ instant: true });
  }).observe(dock);
}

function setAlert(text) {
  $('chat-alert').textContent = text;
}

async function openGuide(serviceId, section, opener) {
  const dialog = $('guide-dialog');
  const body = $('guide-body');
  body.replaceChildren(el('p', {}, '正在加载办事指南…'));
  dialog.showModal();
  dialog.addEventListener('close', () => opener?.focus?.(), { once: true });
  try {
    body.replaceChildren(renderGuide(await loadGuide(serviceId), section));
    // Focus first, without scrolling (focusing the title used to scroll the guide back to its
    // top), then bring the cited section to the top of the dialog and keep it there.
    const cited = body.querySelector('.highlight');
    $('guide-title')?.focus({ preventScroll: true });
    if (cited) body.scrollTop += cited.getBoundingClientRect().top - body.getBoundingClientRect().top;
  } catch (err) {
    body.replaceChildren(el('p', { role: 'alert' }, err.message));
  }
}

// ---- 我的办件 and 卡包 -------------------------------------------------------------------

async function refreshApplications() {
  if (!state.token) return;
  const list = $('applications');
  try {
    const res = await api('/api/me/applications', { token: state.token });
    const apps = Array.isArray(res) ? res : res?.applications ?? [];
    list.replaceChildren(...(apps.length ? apps.map((a) => el('li', {},
      el('article', { class: 'card', 'aria-label': `${a.serviceName} ${a.id}` },
        el('h3', {}, a.serviceName),
        el('dl', { class: 'fields' },
          el('dt', {}, '申请编号'), el('dd', { class: 'application-id' }, a.id),
          el('dt', {}, '状态'), el('dd', { class: `status status-${a.status}` }, STATUS_LABEL[a.status] ?? a.status),
          el('dt', {}, '更新时间'), el('dd', {}, formatTime(a.updatedAt))),
        el('p', {}, a.statusMessage)))) : [el('li', { class: 'muted' }, '暂无办件。')]));
  } catch (err) {
    list.replaceChildren(el('li', { role: 'alert' }, err.message));
  }
}

async function refreshLicences() {
  if (!state.token) return;
  const list = $('licences');
  try {
    const res = await api('/api/me/licences', { token: state.token });
    const items = Array.isArray(res) ? res : res?.licences ?? [];
    list.replaceChildren(...(items.length ? items.map((l) => el('li', {},
      el('article', { class: `card licence ${l.source === 'issued' ? 'card-receipt' : ''}`, 'aria-label': l.name },
        el('h3', {}, icon('idcard'), ` ${l.name}`),
        el('dl', { class: 'fields' },
          el('dt', {}, '签发机关'), el('dd', {}, l.issuer),
          el('dt', {}, '证照编号'), el('dd', {}, l.number),
          el('dt', {}, '签发时间'), el('dd', {}, formatTime(l.issuedAt)),
          l.validUntil ? [el('dt', {}, '有效期至'), el('dd', {}, l.validUntil)] : null,
          l.applicationId ? [el('dt', {}, '来源办件'), el('dd', {}, l.applicationId)] : null),
        licenceShowing(l)))) : [el('li', { class: 'muted' }, '卡包暂无证照。')]));
  } catch (err) {
    list.replaceChildren(el('li', { role: 'alert' }, err.message));
  }
}

/**
 * 出示 (issue #14): a button that opens, under the licence, the QR code a verifier scans (drawn
 * by the server: GET /api/me/licences/:id/share), what it shows of the licence, and 下载 (the
 * certificate card as an SVG image the citizen keeps).
 */
function licenceShowing(l) {
  const panel = el('div', { class: 'licence-show', id: `show-${l.id}`, hidden: true, 'aria-live': 'polite' });
  const button = el('button', {
    type: 'button', class: 'btn small primary', 'aria-expanded': 'false', 'aria-controls': panel.id,
    onclick: () => void toggleShowing(l, panel, button),
  }, '出示');
  return [el('div', { class: 'actions' }, button), panel];
}

async function toggleShowing(l, panel, button) {
  if (!panel.hidden) {
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    button.textContent = '出示';
    return;
  }
  panel.hidden = false;
  button.setAttribute('aria-expanded', 'true');
  button.textContent = '收起';
  panel.replaceChildren(el('p', { class: 'muted' }, '正在生成核验二维码…'));
  try {
    const share = await api(`/api/me/licences/${encodeURIComponent(l.id)}/share`, { token: state.token });
    const f = share.licence;
    const status = el('p', { class: 'licence-show-status', role: 'status' });
    const qr = el('img', { class: 'licence-qr', src: share.qr, width: 240, height: 240, alt: `${f.name}核验二维码，请出示给核验人扫描` });
    // Shown on white with its quiet zone, large enough to scan from a phone screen.
    Object.assign(qr.style, { display: 'block', margin: '8px auto', background: '#fff', maxWidth: '100%', height: 'auto' });
    panel.replaceChildren(
      qr,
      el('p', { class: 'muted' }, share.valid ? '请核验人扫描二维码，查看证照真伪与有效期。' : '该证照当前无效，核验人扫码将看到“无效”。'),
      el('dl', { class: 'fields' },
        el('dt', {}, '证照'), el('dd', {}, f.name),
        el('dt', {}, '持证人'), el('dd', {}, f.holder),
        el('dt', {}, '签发日期'), el('dd', {}, f.issuedOn),
        el('dt', {}, '有效期至'), el('dd', {}, f.validity)),
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'btn small', onclick: () => void downloadLicence(l, share.filename, status) }, '下载')),
      status);
  } catch (err) {
    panel.replaceChildren(el('p', { role: 'alert' }, err.message));
  }
}

/** Downloads the certificate card (an SVG image with the QR code) under its Chinese file name. */
async function downloadLicence(l, filename, status) {
  status.textContent = '正在下载…';
  try {
    const res = await fetch(`/api/me/licences/${encodeURIComponent(l.id)}/card`, { headers: { authorization: `Bearer ${state.token}` } });
    if (!res.ok) {
      const data = await res.json().catch(() => null);
      throw new Error(data?.error?.message ?? '下载失败，请稍后再试。');
    }
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    status.textContent = `已下载：${filename}`;
  } catch (err) {
    status.textContent = err.message || '下载失败，请检查网络后重试。';
  }
}

// ---- tabs ---------------------------------------------------------------------------------

function selectTab(id) {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const on = tab.id === id;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute('aria-controls')).hidden = !on;
  }
  if (id === 'tab-applications') refreshApplications();
  if (id === 'tab-licences') refreshLicences();
}

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => selectTab(tab.id));
    tab.addEventListener('keydown', (e) => {
      const dir = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (!dir) return;
      const next = tabs[(i + dir + tabs.length) % tabs.length];
      selectTab(next.id);
      next.focus();
    });
  });
}

// ---- push-to-talk -------------------------------------------------------------------------

function setupMic() {
  const mic = $('mic');
  const label = mic.querySelector('.mic-label');
  let pressedAt = 0;
  let starting = null;

  const unavailable = () => setAlert(state.voice?.message ?? '语音输入暂不可用，请打字或点按。');
  const begin = async () => {
    if (!state.voice?.asr || !PushToTalk.supported()) return unavailable();
    if (state.recorder?.recording) return;
    state.recorder = new PushToTalk({
      maxSeconds: state.voice.maxAudioSeconds ?? 60,
      onAutoStop: () => void finish(),
    });
    try {
      starting = state.recorder.start();
      await starting;
      mic.setAttribute('aria-pressed', 'true');
      label.textContent = '松开发送';
      setAlert('');
    } catch {
      state.recorder = null;
      setAlert('无法使用麦克风，请检查权限，或改为打字。');
    } finally {
      starting = null;
    }
  };
  const finish = async () => {
    if (starting) await starting.catch(() => {});
    const rec = state.recorder;
    state.recorder = null;
    mic.setAttribute('aria-pressed', 'false');
    label.textContent = '按住说话';
    if (!rec) return;
    const bytes = await rec.stop();
    if (!bytes) return setAlert('没有录到声音，请按住按钮说话。');
    const max = state.voice?.maxAudioBytes ?? 2 * 1024 * 1024;
    if (bytes.byteLength > max) return setAlert('录音太大了，请说短一点再试。');
    sendAudio(bytes);
  };

  mic.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    pressedAt = Date.now();
    if (!state.recorder) void begin();
  });
  mic.addEventListener('pointerup', () => {
    // Held down: release sends. A quick tap leaves it recording until the next tap.
    if (state.recorder && Date.now() - pressedAt > 600) void finish();
  });
  mic.addEventListener('click', (e) => {
    if (e.detail !== 0) return; // pointer clicks are handled above; this is keyboard
    if (state.recorder) void finish();
    else void begin();
  });
  mic.addEventListener('pointerleave', () => {
    if (state.recorder && Date.now() - pressedAt > 600 && pressedAt) void finish();
  });
}

// ---- start --------------------------------------------------------------------------------

async function main() {
  // The page decides where a reload opens (at the newest message), not the browser's memory.
  if ('scrollRestoration' in history) history.scrollRestoration = 'manual';
  setupTabs();
  setupMic();
  keepNewestAboveDock();
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('composer-input');
    send(input.value);
    input.value = '';
    input.focus();
  });
  $('logout').addEventListener('click', () => void logout());
  $('refresh-applications').addEventListener('click', () => void refreshApplications());
  $('refresh-licences').addEventListener('click', () => void refreshLicences());
  $('guide-close').addEventListener('click', () => $('guide-dialog').close());
  api('/api/voice/status').then((v) => {
    state.voice = v;
    if (!v.asr) $('mic').setAttribute('aria-disabled', 'true');
  }).catch(() => { state.voice = { asr: false }; });

  const saved = JSON.parse(sessionStorage.getItem(STORE_KEY) ?? 'null');
  if (saved?.token) {
    state.token = saved.token;
    state.name = saved.name;
    try {
      await startSession(saved.sessionId);
      return;
    } catch {
      sessionStorage.removeItem(STORE_KEY);
      state.token = null;
    }
  }
  await showLogin();
}

// For tests and embedding: what push-to-talk does with a recording.
window.xiaoshen = { sendAudio, send, get state() { return { sessionId: state.sessionId, loggedIn: Boolean(state.token) }; } };

void main();
