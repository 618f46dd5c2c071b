// The verification page (`/verify?c=<code>`): opened by scanning a licence's 出示 QR code, no
// login. It sends only the signed code to GET /api/verify/:code and shows 有效 / 无效 large.
import { api, el, formatTime } from './common.js';

const result = document.getElementById('result');

function verdict(ok, text) {
  return el('p', { class: `verdict ${ok ? 'verdict-ok' : 'verdict-bad'}` },
    el('span', { class: 'mark', 'aria-hidden': 'true' }, ok ? '✓' : '✕'), text);
}

function render(v) {
  result.className = `verify-result ${v.valid ? 'ok' : 'bad'}`;
  const l = v.licence;
  result.replaceChildren(...[
    verdict(v.valid, v.valid ? '有效' : '无效'),
    v.reason ? el('p', { class: 'verify-reason', role: v.valid ? null : 'alert' }, v.reason) : null,
    l ? [
      el('h2', {}, l.name),
      el('dl', { class: 'verify-fields' },
        el('dt', {}, '持证人'), el('dd', { class: 'holder' }, l.holder),
        el('dt', {}, '签发机关'), el('dd', {}, l.issuer),
        el('dt', {}, '签发日期'), el('dd', {}, l.issuedOn),
        el('dt', {}, '有效期至'), el('dd', {}, l.validity)),
    ] : null,
    el('p', { class: 'verify-checked muted' }, `核验时间：${formatTime(v.checkedAt)}`),
  ].flat().filter(Boolean));
}

function refuse(message) {
  result.className = 'verify-result bad';
  result.replaceChildren(verdict(false, '无效'), el('p', { class: 'verify-reason', role: 'alert' }, message));
}

async function main() {
  const code = new URLSearchParams(location.search).get('c')?.trim() ?? '';
  try {
    if (!code) refuse('缺少核验码，无法验证。请扫描证照上的二维码。');
    else render(await api(`/api/verify/${encodeURIComponent(code)}`));
  } catch (err) {
    refuse(err.message || '暂时无法核验，请稍后再试。');
  } finally {
    result.setAttribute('aria-busy', 'false');
  }
}

void main();
