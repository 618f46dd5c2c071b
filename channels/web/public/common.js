// Shared by the app chat, the kiosk and the staff console. Plain ES module, no build step,
// no external assets. Every piece of server data goes into the DOM as text (never as HTML).

/** Chinese labels of application statuses. */
export const STATUS_LABEL = {
  draft: '草稿',
  submitted: '已提交，待受理',
  issued: '已办结',
  under_review: '人工审核中',
  rejected: '未通过',
  returned: '已退回，需补充材料',
};

export const HANDOFF_STATUS_LABEL = { waiting: '等待接单', claimed: '处理中', closed: '已结束' };

/** A handoff's new status on the cards already shown for it (claimed: 处理中, closed: 已结束). */
export function updateHandoffCards(root, handoff) {
  const label = HANDOFF_STATUS_LABEL[handoff.status] ?? handoff.status;
  for (const card of root.querySelectorAll('.card-handoff')) {
    if (card.dataset.handoffId && card.dataset.handoffId !== handoff.id) continue;
    const dd = card.querySelector('.handoff-status');
    if (dd) dd.textContent = label;
  }
}

export const REASON_LABEL = {
  citizen_request: '市民要求转人工',
  review: '需人工审核',
  ineligible: '不符合条件',
  not_understood: '未能理解',
  no_answer: '知识库无答案',
  other: '其他',
};

/** Builds an element: el('button', {class: 'x', onclick}, 'text', child...). Strings become text nodes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * Line icons drawn as inline SVG (24×24, stroked in the text colour), so they look the same on
 * every device, with or without an emoji font. The same paths are inlined in the pages' HTML.
 */
export const ICON_PATHS = {
  landmark: 'M3 21h18M4 10h16M12 3 3 8h18zM6 10v8M10 10v8M14 10v8M18 10v8',
  mic: 'M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM5 11a7 7 0 0 0 14 0M12 18v3M8 21h8',
  check: 'M22 12a10 10 0 1 1-20 0 10 10 0 0 1 20 0zM7.5 12.5l3 3 6-6.5',
  person: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0',
  book: 'M4 19V5a2 2 0 0 1 2-2h14v16H6a2 2 0 0 0-2 2 2 2 0 0 0 2 2h14M8 7h8',
  idcard: 'M3 5h18v14H3zM9 12a2 2 0 1 0 0-4 2 2 0 0 0 0 4zM5.5 16a3.5 3.5 0 0 1 7 0M15 9h3M15 13h3',
  heart: 'M12 20s-7.5-4.6-7.5-10.2A4.3 4.3 0 0 1 12 7.2a4.3 4.3 0 0 1 7.5 2.6C19.5 15.4 12 20 12 20z',
  doc: 'M6 2h9l5 5v15H6zM14 2v6h6M9 13h6M9 17h6',
  card: 'M2 6h20v12H2zM2 10h20M6 15h4',
  search: 'M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM21 21l-5-5',
};

/** A decorative icon (hidden from screen readers: the text beside it says what it is). */
export function icon(name, { className = 'icon' } = {}) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  for (const [k, v] of Object.entries({
    class: className, viewBox: '0 0 24 24', width: '1em', height: '1em', fill: 'none', stroke: 'currentColor',
    'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true', focusable: 'false',
  })) svg.setAttribute(k, v);
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', ICON_PATHS[name] ?? '');
  svg.append(path);
  return svg;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** JSON API call; throws ApiError carrying the server's Chinese message. */
export async function api(path, { method = 'GET', body, token, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试。');
  }
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    const err = data?.error;
    throw new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.message ?? '系统繁忙，请稍后再试。');
  }
  return data;
}

export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formatWaiting(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} 秒`;
  if (s < 3600) return `${Math.floor(s / 60)} 分 ${s % 60} 秒`;
  return `${Math.floor(s / 3600)} 小时 ${Math.floor((s % 3600) / 60)} 分`;
}

/**
 * The session WebSocket (GET /api/sessions/:id/ws, authenticated by its first frame
 * {"type":"auth","token"}; see /docs/websocket). Reconnects with back-off unless closed on
 * purpose or the server said the session is gone (4400/4401/4404/4409).
 */
export class SessionSocket {
  constructor({ sessionId, token, onFrame, onStatus }) {
    this.sessionId = sessionId;
    this.token = token;
    this.onFrame = onFrame;
    this.onStatus = onStatus ?? (() => {});
    this.ws = null;
    this.closedOnPurpose = false;
    this.retry = 0;
    this.queue = [];
  }

  connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // No token in the URL (access logs, proxies): the first frame authenticates.
    const url = `${proto}//${location.host}/api/sessions/${encodeURIComponent(this.sessionId)}/ws`;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'auth', token: this.token ?? '' })));
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return;
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (frame.type === 'ready') {
        this.retry = 0;
        this.onStatus('open');
        for (const item of this.queue.splice(0)) ws.send(item);
      }
      this.onFrame(frame);
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closedOnPurpose || [4400, 4401, 4404, 4409].includes(ev.code)) {
        this.onStatus(this.closedOnPurpose ? 'closed' : 'gone');
        return;
      }
      this.onStatus('reconnecting');
      const wait = Math.min(10_000, 500 * 2 ** this.retry++);
      setTimeout(() => !this.closedOnPurpose && this.connect(), wait);
    });
  }

  get ready() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(frame) {
    const data = typeof frame === 'string' || frame instanceof ArrayBuffer || ArrayBuffer.isView(frame) ? frame : JSON.stringify(frame);
    if (this.ready) this.ws.send(data);
    else this.queue.push(data);
  }

  close() {
    this.closedOnPurpose = true;
    this.queue = [];
    try {
      this.ws?.close(1000, 'bye');
    } catch {
      /* already closed */
    }
    this.ws = null;
  }
}

/** Sends a recorded clip: audio_start, the bytes as one binary frame, audio_end. */
export function sendAudioClip(socket, bytes, { format, stream = true, speak = false } = {}) {
  socket.send({ type: 'audio_start', ...(format ? { format } : {}) });
  socket.send(bytes instanceof ArrayBuffer ? bytes : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  socket.send({ type: 'audio_end', stream, speak });
}

/**
 * Push-to-talk with MediaRecorder. `start()` asks for the microphone; `stop()` resolves with
 * the recorded bytes. Recording stops by itself at `maxSeconds`.
 */
export class PushToTalk {
  constructor({ maxSeconds = 60, maxBytes = 2 * 1024 * 1024, onAutoStop } = {}) {
    this.maxSeconds = maxSeconds;
    this.maxBytes = maxBytes;
    this.onAutoStop = onAutoStop ?? (() => {});
    this.recorder = null;
    this.chunks = [];
    this.timer = null;
  }

  static supported() {
    return Boolean(navigator.mediaDevices?.getUserMedia && window.MediaRecorder);
  }

  get recording() {
    return this.recorder?.state === 'recording';
  }

  async start() {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const mimeType = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'].find((t) => MediaRecorder.isTypeSupported?.(t));
    this.recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    this.chunks = [];
    this.recorder.addEventListener('dataavailable', (e) => e.data.size && this.chunks.push(e.data));
    this.recorder.start(250);
    this.timer = setTimeout(() => this.onAutoStop(), this.maxSeconds * 1000);
  }

  stop() {
    clearTimeout(this.timer);
    const rec = this.recorder;
    this.recorder = null;
    if (!rec) return Promise.resolve(null);
    return new Promise((resolve) => {
      rec.addEventListener('stop', async () => {
        rec.stream.getTracks().forEach((t) => t.stop());
        const blob = new Blob(this.chunks, { type: rec.mimeType });
        this.chunks = [];
        resolve(blob.size ? new Uint8Array(await blob.arrayBuffer()) : null);
      }, { once: true });
      rec.stop();
    });
  }

  cancel() {
    clearTimeout(this.timer);
    const rec = this.recorder;
    this.recorder = null;
    this.chunks = [];
    if (rec) {
      rec.stream.getTracks().forEach((t) => t.stop());
      try { rec.stop(); } catch { /* ignore */ }
    }
  }
}

/** Decodes the base64 WAV of a `speech` frame into a playable object URL. */
export function speechUrl(frame) {
  const bin = atob(frame.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return URL.createObjectURL(new Blob([bytes], { type: frame.mime || 'audio/wav' }));
}

/** Puts the page's text input (the composer) in focus for a free answer, e.g. another country. */
function focusTypeIn(typeIn, label) {
  if (typeof typeIn === 'function') return typeIn(label);
  const input = document.querySelector('#composer input[type="text"], #composer textarea');
  if (!input) return;
  if (label) input.placeholder = `请输入${label}`;
  input.focus();
}

/**
 * A Turn's card as UI. `send(text)` posts a message as if typed; `openGuide(service, section)`
 * shows a guide. Buttons become disabled once one is used (a card answers once).
 */
export function renderCard(card, { send, openGuide, typeIn, big = false } = {}) {
  if (!card || typeof card !== 'object') return null;
  const btnClass = big ? 'btn big' : 'btn';
  const once = (fn) => (ev) => {
    const section = ev.currentTarget.closest('.card');
    section?.querySelectorAll('button').forEach((b) => (b.disabled = true));
    ev.currentTarget.setAttribute('aria-pressed', 'true');
    fn();
  };
  switch (card.type) {
    case 'confirm': {
      const fields = Array.isArray(card.fields) ? card.fields : [];
      const actions = Array.isArray(card.actions) && card.actions.length
        ? card.actions
        : [{ label: '立即办理', text: '确认' }, { label: '取消', text: '取消' }];
      const dl = (list) => el('dl', { class: 'fields' }, list.map((f) => [
        el('dt', {}, f.label ?? f.key),
        el('dd', {}, f.value ?? f.display ?? '（待填写）'),
      ]));
      const groups = Array.isArray(card.groups) ? card.groups : [];
      const offer = card.offer && typeof card.offer === 'object' ? card.offer : null;
      // 一件事: the fields every part shares once, then each department with its own parts and fields.
      const shared = groups.length ? fields.filter((f) => !groups.some((g) => (g.fields ?? []).some((x) => x.key === f.key))) : fields;
      return el('section', { class: 'card card-confirm', 'aria-label': `请核对：${card.serviceName ?? '申请信息'}` },
        el('h3', {}, offer ? `免申即享：${offer.title}` : card.serviceName ? `请核对「${card.serviceName}」申请信息` : '请核对申请信息'),
        offer ? el('div', { class: 'offer' },
          el('ul', { class: 'offer-why', 'aria-label': '符合条件的原因' }, (offer.why ?? []).map((w) => el('li', {}, w))),
          offer.amount ? el('p', { class: 'offer-amount' }, `预计金额：${offer.amount}`) : null,
          offer.explain ? el('p', { class: 'offer-explain' }, offer.explain) : null) : null,
        dl(shared),
        groups.map((g) => el('section', { class: 'card-group', 'aria-label': g.department },
          el('h4', {}, `${g.department}：${(g.services ?? []).join('、')}`),
          (g.fields ?? []).length ? dl(g.fields) : null)),
        Array.isArray(card.skipped) && card.skipped.length
          ? el('div', { class: 'card-skipped' }, el('h4', {}, '这次不办理'), el('ul', {}, card.skipped.map((k) => el('li', {}, k.reason ?? k.serviceName))))
          : null,
        el('div', { class: 'actions' }, actions.map((a, i) =>
          el('button', { type: 'button', class: `${btnClass}${i === 0 ? ' primary' : ''}`, onclick: once(() => send(a.text ?? a.label, { cardToken: card.token })) }, a.label))));
    }
    case 'choices': {
      const options = Array.isArray(card.options) ? card.options : [];
      return el('section', { class: 'card card-choices', 'aria-label': `请选择${card.label ?? ''}` },
        el('h3', {}, card.label ? `请选择${card.label}` : '请选择'),
        el('div', { class: 'actions choices' }, options.map((o) => {
          const label = typeof o === 'string' ? o : o.label ?? o.value;
          const text = typeof o === 'string' ? o : o.text ?? o.label ?? o.value;
          // "其他（手动输入）": sends nothing; the keyboard input gets the focus (the card stays usable).
          if (o && typeof o === 'object' && o.input) {
            return el('button', { type: 'button', class: `${btnClass} type-in`, 'data-input': 'true', onclick: () => focusTypeIn(typeIn, card.label) }, label);
          }
          return el('button', { type: 'button', class: btnClass, onclick: once(() => send(text, { cardToken: card.token })) }, label);
        })));
    }
    case 'receipt': {
      return el('section', { class: 'card card-receipt', 'aria-label': '办理回执' },
        el('h3', {}, icon('check'), ` ${card.serviceName ?? '申请'}已提交`),
        el('dl', { class: 'fields' },
          el('dt', {}, '申请编号'), el('dd', { class: 'application-id' }, card.applicationId ?? ''),
          el('dt', {}, '办理状态'), el('dd', { class: `status status-${card.status}` }, STATUS_LABEL[card.status] ?? card.status ?? ''),
          card.licence ? [el('dt', {}, '电子证照'), el('dd', {}, `${card.licence.name}（已发送至卡包）`)] : null,
          card.submittedAt ? [el('dt', {}, '提交时间'), el('dd', {}, formatTime(card.submittedAt))] : null),
        // 一件事: one line per part, each with its own department, number and status. The status
        // message itself is the reply just above the card: said once, not twice.
        card.bundle && Array.isArray(card.bundle.parts)
          ? el('ul', { class: 'bundle-parts', 'aria-label': `${card.bundle.name}各部门办理情况` }, card.bundle.parts.map((p) =>
            el('li', {}, `${p.serviceName}（${p.department}）：${p.statusLabel ?? STATUS_LABEL[p.status] ?? p.status}，编号 ${p.applicationId}`)))
          : null);
    }
    case 'handoff': {
      return el('section', { class: 'card card-handoff', 'aria-label': '人工服务', 'data-handoff-id': card.handoffId ?? '' },
        el('h3', {}, icon('person'), ' 已转人工服务'),
        el('dl', { class: 'fields' },
          el('dt', {}, '转人工编号'), el('dd', {}, card.handoffId ?? ''),
          card.applicationId ? [el('dt', {}, '申请编号'), el('dd', { class: 'application-id' }, card.applicationId)] : null,
          card.status ? [el('dt', {}, '状态'), el('dd', { class: 'handoff-status' }, STATUS_LABEL[card.status] ?? HANDOFF_STATUS_LABEL[card.status] ?? card.status)] : null),
        el('p', {}, card.message ?? '工作人员会在这里回复您，请留意本页消息。'));
    }
    case 'guide': {
      return el('section', { class: 'card card-guide', 'aria-label': '办事指南' },
        el('h3', {}, icon('book'), ` ${card.serviceName ?? '办事指南'}`),
        renderCitations(card.citations, openGuide),
        card.transactable ? el('div', { class: 'actions' },
          el('button', { type: 'button', class: btnClass, onclick: once(() => send(`我要办${card.serviceName ?? ''}`)) }, '在线办理')) : null);
    }
    default:
      return null;
  }
}

/** Citations as links to the guide (`GET /api/services/:id`). */
export function renderCitations(citations, openGuide) {
  if (!Array.isArray(citations) || citations.length === 0) return null;
  return el('ul', { class: 'citations', 'aria-label': '引用的办事指南' }, citations.map((c) =>
    el('li', {}, el('a', {
      href: `#guide/${encodeURIComponent(c.service)}/${encodeURIComponent(c.section ?? '')}`,
      class: 'citation',
      onclick: (ev) => {
        if (!openGuide) return;
        ev.preventDefault();
        openGuide(c.service, c.section, ev.currentTarget);
      },
    }, `办事指南：${c.title ?? c.section ?? c.service}`))));
}

/** The guide of a service, as a dialog body. */
export async function loadGuide(serviceId) {
  return api(`/api/services/${encodeURIComponent(serviceId)}`);
}

export function renderGuide(detail, focusSection) {
  const guide = detail.guide ?? {};
  const sections = Array.isArray(guide.sections) ? guide.sections : [];
  return el('article', { class: 'guide' },
    el('h2', { id: 'guide-title', tabindex: '-1' }, `${detail.name ?? guide.name ?? ''} · 办事指南`),
    el('p', { class: 'muted' }, `${detail.department ?? guide.department ?? ''}${guide.updated ? ` · 更新于 ${guide.updated}` : ''}`),
    guide.available === false ? el('p', {}, guide.message ?? '该事项的办事指南正在编写中。') : null,
    sections.map((s) => el('section', { class: `guide-section${focusSection && s.title && (s.title.includes(focusSection) || focusSection.includes(s.title)) ? ' highlight' : ''}` },
      el('h3', {}, s.title), guideBlocks(s.content))));
}

/**
 * A guide section's text as paragraphs and real lists: lines starting "- " or "* " make a
 * bulleted list, lines starting "1." / "1、" / "（1）" a numbered one; every other line is a paragraph
 * (the guides are not hard-wrapped).
 */
export function guideBlocks(content) {
  const blocks = [];
  let list = null;
  for (const raw of String(content ?? '').split('\n')) {
    const line = raw.trim();
    if (!line) {
      list = null;
      continue;
    }
    const bullet = /^[-*•]\s+(.*)$/.exec(line);
    const numbered = /^(?:\d+[.、)](?!\d)|[（(]\d+[）)])\s*(.*)$/.exec(line);
    const item = bullet ?? numbered;
    if (item) {
      const tag = bullet ? 'ul' : 'ol';
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = el(tag, { class: 'guide-list' });
        blocks.push(list);
      }
      list.append(el('li', {}, item[1]));
      continue;
    }
    list = null;
    blocks.push(el('p', {}, line));
  }
  return blocks;
}

/** Reads ?name= from the page URL. */
export function queryParam(name) {
  return new URLSearchParams(location.search).get(name);
}
