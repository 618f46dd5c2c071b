// The in-hall kiosk (`/kiosk`): ID-card login, voice first with a touch path for every step,
// spoken replies, an avatar following the session's avatar stream, and an idle reset that
// ends the session and leaves nothing of the last person on screen or in the browser.
import {
  api, el, HANDOFF_STATUS_LABEL, PushToTalk, queryParam, renderCard, sendAudioClip, SessionSocket, speechUrl, STATUS_LABEL,
  updateHandoffCards,
} from './common.js';

const $ = (id) => document.getElementById(id);
const DEVICE_KEY_STORE = 'xiaoshen.kioskDeviceKey';

const AVATAR_LABEL = { idle: '小申', listening: '正在听您说…', thinking: '正在思考…', speaking: '正在说话…' };

let config = null;
let voice = { asr: false, tts: false };
let idleSeconds = 90;

/** Everything about the current person. Replaced wholesale on reset. */
let person = freshPerson();
function freshPerson() {
  return { token: null, name: null, sessionId: null, socket: null, recorder: null, streaming: false, waiting: false, seenStaff: new Set(), audioUrl: null };
}

// ---- idle timeout ---------------------------------------------------------------------------

let idleTimer = null;
let warnTimer = null;
let countdownTimer = null;

function touchActivity() {
  if (!person.token) return;
  clearTimeout(idleTimer);
  clearTimeout(warnTimer);
  clearInterval(countdownTimer);
  $('idle-warning').hidden = true;
  // While a reply is being worked out the person is waiting, not idle (but never forever).
  const seconds = person.waiting ? Math.max(idleSeconds, 60) : idleSeconds;
  const warnAt = seconds >= 20 ? seconds - 10 : null;
  if (warnAt !== null) warnTimer = setTimeout(showIdleWarning, warnAt * 1000);
  idleTimer = setTimeout(() => void endVisit('idle'), seconds * 1000);
}

function showIdleWarning() {
  let left = 10;
  $('idle-count').textContent = String(left);
  $('idle-warning').hidden = false;
  $('idle-continue').focus();
  countdownTimer = setInterval(() => {
    left = Math.max(0, left - 1);
    $('idle-count').textContent = String(left);
  }, 1000);
}

// ---- login by ID card ------------------------------------------------------------------------

/**
 * What the card reader read. A real reader integration calls this (e.g. from a local bridge
 * via window.postMessage); the sandbox control below calls it with a fictional card.
 */
async function onCardRead({ idNumber, name }) {
  $('welcome-error').textContent = '';
  const deviceKey = localStorage.getItem(DEVICE_KEY_STORE) ?? config?.kiosk?.deviceKey ?? '';
  try {
    const res = await api('/api/auth/kiosk-card-login', {
      method: 'POST', body: { idNumber, name }, headers: { 'x-kiosk-device-key': deviceKey },
    });
    person.token = res.token;
    person.name = res.principal?.name ?? name;
    const s = await api('/api/sessions', { method: 'POST', token: person.token, body: { channel: 'kiosk' } });
    person.sessionId = s.sessionId;
  } catch (err) {
    person = freshPerson();
    $('welcome-error').textContent = err.message;
    return;
  }
  $('card-select').value = '';
  $('welcome').hidden = true;
  $('service').hidden = false;
  person.socket = new SessionSocket({
    sessionId: person.sessionId,
    token: person.token,
    onFrame,
    onStatus: (s) => { if (s === 'gone') void endVisit('gone'); },
  });
  person.socket.connect();
  // The agent speaks first: a greeting and, from shared data, what the citizen can have without applying.
  let opening = null;
  try {
    opening = await api(`/api/sessions/${encodeURIComponent(person.sessionId)}/opening`, { method: 'POST', token: person.token });
  } catch {
    opening = null;
  }
  const hint = voice.asr ? '' : '语音输入暂不可用，请打字或点按。';
  if (opening) {
    showTurn({ ...opening, reply: opening.reply + hint });
    // Spoken: the point (opening.speech); the details are on the screen.
    void speakText(opening.speech ?? opening.reply);
  } else {
    const greeting = `${person.name}，您好！我是小申。请说出您要办的事，或点击下面的按钮。${hint}`;
    showReply(greeting);
    void speakText(`${person.name}，您好！我是小申。请说出您要办的事。`);
  }
  touchActivity();
}

// ---- frames from the session socket ----------------------------------------------------

function onFrame(frame) {
  switch (frame.type) {
    case 'avatar':
      setAvatar(frame.state);
      break;
    case 'transcript':
      $('heard').textContent = `您说：${frame.text}`;
      break;
    case 'delta':
      if (!person.streaming) {
        person.streaming = true;
        $('reply').textContent = '';
        $('reply').classList.add('streaming');
        $('card-area').replaceChildren();
      }
      $('reply').textContent += frame.text;
      break;
    case 'turn':
      person.streaming = false;
      person.waiting = false;
      showTurn(frame.turn);
      touchActivity();
      break;
    case 'speech':
      playSpeech(frame);
      break;
    case 'staff_message':
      if (person.seenStaff.has(frame.message.id)) break;
      person.seenStaff.add(frame.message.id);
      $('staff-area').append(el('p', { class: 'staff-msg' }, `工作人员：${frame.message.text}`));
      void speakText(`工作人员说：${frame.message.text}`);
      touchActivity();
      break;
    case 'handoff': {
      // Claimed, closed: the card on screen says so, and so does a line under it.
      updateHandoffCards($('card-area'), frame.handoff);
      const label = HANDOFF_STATUS_LABEL[frame.handoff.status] ?? frame.handoff.status;
      $('staff-area').append(el('p', { class: 'staff-msg' }, frame.handoff.status === 'claimed' ? '工作人员已接单，请稍候。' : `人工服务${label}。`));
      touchActivity();
      break;
    }
    case 'application':
      $('staff-area').append(el('p', { class: 'staff-msg' },
        `您的「${frame.application.serviceName}」状态更新：${STATUS_LABEL[frame.application.status] ?? frame.application.status}`));
      touchActivity();
      break;
    case 'error':
      person.streaming = false;
      person.waiting = false;
      touchActivity();
      $('reply').classList.remove('streaming');
      $('service-alert').textContent = frame.error?.message ?? '系统繁忙，请稍后再试。';
      void speakText(frame.error?.message ?? '');
      setAvatar('idle');
      break;
    default:
      break;
  }
}

function showReply(text) {
  $('reply').classList.remove('streaming');
  $('reply').textContent = text;
}

function showTurn(turn) {
  // A message passed to staff during a live handoff: the agent stays silent, the screen as it was.
  if (!turn.reply && !turn.card) return;
  showReply(turn.reply);
  const card = renderCard(turn.card, { send: (text, opts) => sendText(text, 'touch', opts), big: true });
  $('card-area').replaceChildren(...(card ? [card] : []));
  // Service tiles stay available except while a question or confirmation is pending.
  $('tiles').hidden = Boolean(turn.awaiting);
}

function setAvatar(state) {
  const fig = $('avatar');
  fig.dataset.state = state;
  $('avatar-label').textContent = AVATAR_LABEL[state] ?? '小申';
}

// ---- speaking -----------------------------------------------------------------------------

function playSpeech(frame) {
  const player = $('player');
  if (person.audioUrl) URL.revokeObjectURL(person.audioUrl);
  person.audioUrl = speechUrl(frame);
  player.src = person.audioUrl;
  setAvatar('speaking');
  player.play().catch(() => spoken());
}

function spoken() {
  setAvatar('idle');
  person.socket?.send({ type: 'avatar', state: 'idle' });
  touchActivity();
}

/** Speaks text that is not a turn (greeting, staff replies) through POST /api/tts. */
async function speakText(text) {
  if (!voice.tts || !text) return;
  const owner = person;
  try {
    const res = await fetch('/api/tts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
    if (!res.ok || owner !== person || !person.token) return;
    const blob = await res.blob();
    if (owner !== person) return;
    if (person.audioUrl) URL.revokeObjectURL(person.audioUrl);
    person.audioUrl = URL.createObjectURL(blob);
    $('player').src = person.audioUrl;
    setAvatar('speaking');
    person.socket?.send({ type: 'avatar', state: 'speaking' });
    await $('player').play().catch(() => spoken());
  } catch {
    /* the text is on screen */
  }
}

// ---- input: touch, text, voice --------------------------------------------------------------

/** Sends what the citizen touched (a tile, a card's button) or typed; the screen says which. */
function sendText(text, how = 'touch', { cardToken } = {}) {
  const clean = String(text ?? '').trim();
  if (!clean || !person.socket) return;
  $('service-alert').textContent = '';
  $('heard').textContent = how === 'typed' ? `您输入：${clean}` : `您选择：${clean}`;
  stopSpeaking();
  person.waiting = true;
  touchActivity();
  person.socket.send({ type: 'message', text: clean, stream: true, speak: true, ...(cardToken ? { cardToken } : {}) });
}

function stopSpeaking() {
  const player = $('player');
  if (!player.paused) player.pause();
}

function setupMic() {
  const mic = $('mic');
  const label = mic.querySelector('.mic-label');
  let pressedAt = 0;
  const begin = async () => {
    if (!voice.asr || !PushToTalk.supported() || !person.socket) {
      $('service-alert').textContent = voice.message ?? '语音输入暂不可用，请打字或点按。';
      return;
    }
    stopSpeaking();
    person.recorder = new PushToTalk({ maxSeconds: voice.maxAudioSeconds ?? 60, onAutoStop: () => void finish() });
    try {
      await person.recorder.start();
      mic.setAttribute('aria-pressed', 'true');
      label.textContent = '松开发送';
      setAvatar('listening');
      person.socket.send({ type: 'avatar', state: 'listening' });
    } catch {
      person.recorder = null;
      $('service-alert').textContent = '无法使用麦克风，请点按屏幕上的按钮。';
    }
  };
  const finish = async () => {
    const rec = person.recorder;
    person.recorder = null;
    mic.setAttribute('aria-pressed', 'false');
    label.textContent = '按住说话';
    if (!rec) return;
    const bytes = await rec.stop();
    if (!bytes || !person.socket) return touchActivity();
    person.waiting = true;
    touchActivity();
    sendAudioClip(person.socket, bytes, { stream: true, speak: true });
  };
  mic.addEventListener('pointerdown', () => { pressedAt = Date.now(); if (!person.recorder) void begin(); });
  mic.addEventListener('pointerup', () => { if (person.recorder && Date.now() - pressedAt > 600) void finish(); });
  mic.addEventListener('click', (e) => {
    if (e.detail !== 0) return;
    if (person.recorder) void finish();
    else void begin();
  });
}

// ---- end of a visit -------------------------------------------------------------------------

/** Ends the session on the server and clears the screen and every local trace of the person. */
async function endVisit(why) {
  const { token, sessionId, socket, recorder, audioUrl } = person;
  person = freshPerson();
  clearTimeout(idleTimer);
  clearTimeout(warnTimer);
  clearInterval(countdownTimer);
  socket?.close();
  recorder?.cancel();
  const player = $('player');
  player.pause();
  player.removeAttribute('src');
  player.load();
  if (audioUrl) URL.revokeObjectURL(audioUrl);
  for (const id of ['reply', 'heard', 'card-area', 'staff-area', 'service-alert', 'welcome-error']) $(id).replaceChildren();
  $('kiosk-input').value = '';
  $('card-select').value = '';
  $('tiles').hidden = false;
  $('idle-warning').hidden = true;
  $('service').hidden = true;
  $('welcome').hidden = false;
  setAvatar('idle');
  sessionStorage.clear();
  if (token && sessionId) {
    await fetch(`/api/sessions/${encodeURIComponent(sessionId)}`, {
      method: 'DELETE', headers: { authorization: `Bearer ${token}` }, keepalive: true,
    }).catch(() => {});
  }
  document.body.dataset.lastReset = why;
}

// ---- start --------------------------------------------------------------------------------

function tick() {
  const d = new Date();
  $('clock').textContent = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

async function main() {
  tick();
  setInterval(tick, 10_000);
  // A kiosk is provisioned once with /kiosk?deviceKey=...; the key is kept, the URL cleaned.
  const provisioned = queryParam('deviceKey');
  if (provisioned) {
    localStorage.setItem(DEVICE_KEY_STORE, provisioned);
    const url = new URL(location.href);
    url.searchParams.delete('deviceKey');
    history.replaceState(null, '', url);
  }
  try {
    config = await api('/api/web/config');
  } catch {
    config = { kiosk: { idleSeconds: 90, sandboxCards: [] }, voice: { asr: false, tts: false } };
  }
  voice = config.voice ?? voice;
  const override = Number(queryParam('idle'));
  idleSeconds = Number.isFinite(override) && override > 0 ? override : config.kiosk?.idleSeconds ?? 90;

  if (!voice.asr) {
    $('voice-banner').textContent = voice.message ?? '语音输入暂不可用，请打字或点按。';
    $('voice-banner').hidden = false;
    $('mic').hidden = true;
  }
  const cards = config.kiosk?.sandboxCards ?? [];
  if (cards.length) {
    const select = $('card-select');
    select.append(el('option', { value: '' }, '请选择…'));
    cards.forEach((c, i) => select.append(el('option', { value: c.id }, `沙箱身份证 ${i + 1}：${[...c.name][0]}**`)));
    $('sandbox-card').hidden = false;
    $('simulate-card').addEventListener('click', () => {
      const card = cards.find((c) => c.id === select.value);
      if (!card) {
        $('welcome-error').textContent = '请先选择一张沙箱身份证。';
        return;
      }
      void onCardRead({ idNumber: card.idNumber, name: card.name });
    });
  }
  // A card-reader bridge running on the kiosk may post {type:'id-card', idNumber, name}.
  window.addEventListener('message', (e) => {
    if (e.origin !== location.origin || e.data?.type !== 'id-card' || person.token) return;
    void onCardRead({ idNumber: String(e.data.idNumber ?? ''), name: String(e.data.name ?? '') });
  });

  for (const tile of document.querySelectorAll('.tile')) tile.addEventListener('click', () => sendText(tile.dataset.text));
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    sendText($('kiosk-input').value, 'typed');
    $('kiosk-input').value = '';
  });
  $('finish').addEventListener('click', () => void endVisit('finished'));
  $('idle-continue').addEventListener('click', touchActivity);
  $('player').addEventListener('ended', spoken);
  for (const ev of ['pointerdown', 'keydown', 'input']) document.addEventListener(ev, touchActivity, { passive: true });
  setupMic();
}

void main();
