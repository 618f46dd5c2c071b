/**
 * report.html: one self-contained page (inline CSS, inline SVG charts, no script, no
 * external asset; a CSP forbids both). Labels are Chinese and English. Every string that
 * comes from a dataset or an engine goes through `esc`.
 */
import type { ConversationResult, PassTally } from './conversations.js';
import { THRESHOLDS } from './gate.js';
import type { Tally } from './nlu.js';
import type { ConsentSection, ConversationSection, Report } from './report.js';
import type { TranscriptTurn } from './scenarios.js';

export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);
const num = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined ? '–' : v.toFixed(digits));

const COLORS = { ours: '#1565c0', base: '#9e9e9e', ok: '#2e7d32', bad: '#c62828', warn: '#ef6c00', grid: '#e0e0e0' };

function tile(labelZh: string, labelEn: string, value: string, sub: string, state: 'ok' | 'bad' | 'none'): string {
  return `<div class="tile ${state}"><div class="tl">${esc(labelZh)}<span>${esc(labelEn)}</span></div>`
    + `<div class="tv">${esc(value)}</div><div class="ts">${esc(sub)}</div></div>`;
}

const stateOf = (v: number | null | undefined, ok: (x: number) => boolean): 'ok' | 'bad' | 'none' =>
  v === null || v === undefined ? 'none' : ok(v) ? 'ok' : 'bad';

/** A horizontal bar for a 0..1 value, with its percentage. */
function bar(value: number | null | undefined, color: string, width = 140, label = pct(value)): string {
  const v = value ?? 0;
  const w = Math.max(0, Math.min(1, v)) * width;
  return `<svg class="bar" width="${width + 54}" height="14" role="img" aria-label="${esc(label)}">`
    + `<rect x="0" y="1" width="${width}" height="12" fill="${COLORS.grid}"/>`
    + `<rect x="0" y="1" width="${w.toFixed(1)}" height="12" fill="${color}"/>`
    + `<text x="${width + 4}" y="11" font-size="11">${esc(label)}</text></svg>`;
}

/** Grouped vertical bars: ours vs the baseline, per metric. */
function comparisonChart(groups: { label: string; ours: number | null; base: number | null }[], oursName: string, baseName: string): string {
  const W = 560;
  const H = 260;
  const top = 30;
  const bottom = 50;
  const left = 40;
  const plotH = H - top - bottom;
  const groupW = (W - left - 10) / groups.length;
  const barW = Math.min(60, groupW / 3);
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    parts.push(`<line x1="${left}" x2="${W - 10}" y1="${y}" y2="${y}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${left - 6}" y="${y + 4}" font-size="10" text-anchor="end">${i * 25}%</text>`);
  }
  groups.forEach((g, i) => {
    const cx = left + groupW * i + groupW / 2;
    const bars: [number | null, string, number][] = [[g.ours, COLORS.ours, cx - barW - 2], [g.base, COLORS.base, cx + 2]];
    for (const [v, color, x] of bars) {
      const h = (v ?? 0) * plotH;
      parts.push(`<rect x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"/>`);
      parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(top + plotH - h - 4).toFixed(1)}" font-size="11" text-anchor="middle">${esc(pct(v))}</text>`);
    }
    parts.push(`<text x="${cx.toFixed(1)}" y="${H - bottom + 18}" font-size="12" text-anchor="middle">${esc(g.label)}</text>`);
  });
  const ly = H - 14;
  parts.push(`<rect x="${left}" y="${ly - 10}" width="12" height="12" fill="${COLORS.ours}"/><text x="${left + 16}" y="${ly}" font-size="12">${esc(oursName)}</text>`);
  parts.push(`<rect x="${left + 220}" y="${ly - 10}" width="12" height="12" fill="${COLORS.base}"/><text x="${left + 236}" y="${ly}" font-size="12">${esc(baseName)}</text>`);
  return `<svg class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="ours vs baseline">${parts.join('')}</svg>`;
}

function tallyTable(
  title: string,
  rows: [string, string, Tally, Tally | undefined][],
  headAcc: string,
): string {
  const body = rows.map(([key, label, t, b]) =>
    `<tr><td><code>${esc(key)}</code>${label ? ` <span class="muted">${esc(label)}</span>` : ''}</td><td class="r">${t.n}</td>`
    + `<td>${bar(t.accuracy, COLORS.ours)}</td><td>${b ? bar(b.accuracy, COLORS.base) : '–'}</td><td>${bar(t.joint_accuracy, COLORS.ours)}</td></tr>`).join('');
  return `<table><caption>${esc(title)}</caption><thead><tr><th>${esc('键 key')}</th><th>n</th><th>${esc(headAcc)}（ours）</th>`
    + `<th>${esc(headAcc)}（NLP.js）</th><th>联合 joint（ours）</th></tr></thead><tbody>${body}</tbody></table>`;
}

function confusionMatrix(r: Report): string {
  const pairs = r.nlu.confusion?.services ?? [];
  if (!pairs.length) return '<p class="muted">没有混淆 — no service confusions.</p>';
  const weight = new Map<string, number>();
  for (const p of pairs) {
    weight.set(p.expected, (weight.get(p.expected) ?? 0) + p.count);
    weight.set(p.predicted, (weight.get(p.predicted) ?? 0) + p.count);
  }
  const top = [...weight.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10).map(([k]) => k);
  const inTop = new Set(top);
  const max = Math.max(...pairs.map((p) => p.count), 1);
  const cell = (count: number, diag: boolean) => {
    if (!count) return `<td class="cm"></td>`;
    const alpha = diag ? 0.18 : 0.15 + 0.85 * (count / max);
    const color = diag ? `rgba(46,125,50,${alpha})` : `rgba(198,40,40,${alpha.toFixed(2)})`;
    return `<td class="cm" style="background:${color}">${count}</td>`;
  };
  const head = top.map((k) => `<th class="vert" title="${esc(r.service_names[k] ?? k)}"><span>${esc(k)}</span></th>`).join('');
  const rows = top.map((exp) => {
    const cells = top.map((pred) => {
      if (pred === exp) return cell(r.nlu.per_service?.[exp]?.correct ?? 0, true);
      return cell(pairs.find((p) => p.expected === exp && p.predicted === pred)?.count ?? 0, false);
    }).join('');
    const other = pairs.filter((p) => p.expected === exp && !inTop.has(p.predicted)).reduce((a, p) => a + p.count, 0);
    return `<tr><th class="rowh"><code>${esc(exp)}</code> <span class="muted">${esc(r.service_names[exp] ?? '')}</span></th>${cells}${cell(other, false)}</tr>`;
  }).join('');
  return `<p class="muted">行 = 期望事项 expected，列 = 预测事项 predicted（对角线 = 正确数 correct）</p><div class="scroll"><table class="matrix">`
    + `<thead><tr><th></th>${head}<th class="vert"><span>其他 other</span></th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function nluSection(r: Report): string {
  const n = r.nlu;
  if (n.skipped) return `<section><h2>意图理解 NLU</h2><p class="muted">未运行 skipped: ${esc(n.error ?? '')}</p></section>`;
  if (n.n === 0) return `<section><h2>意图理解 NLU</h2><p class="bad">未完成 not run: ${esc(n.error ?? '')}</p></section>`;
  const b = n.baseline;
  const chart = comparisonChart(
    [
      { label: '意图 act', ours: n.act_accuracy, base: b?.act_accuracy ?? null },
      { label: '事项 service', ours: n.service_accuracy, base: b?.service_accuracy ?? null },
      { label: '联合 joint', ours: n.joint_accuracy, base: b?.joint_accuracy ?? null },
    ],
    `我们 ours (${n.engine ?? ''})`,
    `基线 baseline (${b?.name ?? 'nlp.js'})`,
  );
  const lat = `<table class="kv"><tr><th></th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>`
    + `<tr><td>我们 ours</td><td>${num(n.latency?.p50_ms)}</td><td>${num(n.latency?.p95_ms)}</td><td>${num(n.latency?.p99_ms)}</td><td>${num(n.latency?.max_ms)}</td></tr>`
    + (b ? `<tr><td>NLP.js</td><td>${num(b.p50_ms)}</td><td>${num(b.p95_ms)}</td><td>–</td><td>–</td></tr>` : '')
    + `</table>`;
  const slot = `<p>槽位 slots: F1 <b>${esc(pct(n.slot_f1))}</b>, precision ${esc(pct(n.slot_precision))}, recall ${esc(pct(n.slot_recall))} `
    + `<span class="muted">(${n.slot_items ?? 0} items; tp ${n.slot_counts?.tp ?? 0}, fp ${n.slot_counts?.fp ?? 0}, fn ${n.slot_counts?.fn ?? 0})</span></p>`;
  const perAct = tallyTable('按意图 per act', Object.entries(n.per_act ?? {}).map(([k, t]) => [k, '', t, b?.per_act[k]]), '意图准确率 act acc.');
  const perService = tallyTable('按事项 per service',
    Object.entries(n.per_service ?? {}).map(([k, t]) => [k, r.service_names[k] ?? (k === 'none' ? '无事项 no service' : ''), t, b?.per_service[k]]),
    '事项准确率 service acc.');
  const pairs = (n.confusion?.services ?? []).slice(0, 15)
    .map((p) => `<li><code>${esc(p.expected)}</code> → <code>${esc(p.predicted)}</code> × ${p.count}</li>`).join('');
  const actPairs = (n.confusion?.acts ?? []).slice(0, 15)
    .map((p) => `<li><code>${esc(p.expected)}</code> → <code>${esc(p.predicted)}</code> × ${p.count}</li>`).join('');
  const mistakes = (n.mistakes ?? []).map((m) =>
    `<tr><td>${esc(m.id)}</td><td>${esc(m.text)}</td><td>${esc(m.expected_act)} / ${esc(m.expected_service ?? 'none')}</td>`
    + `<td>${esc(m.predicted_act ?? '(error)')} / ${esc(m.predicted_service ?? 'none')}${m.error ? ` <span class="bad">${esc(m.error)}</span>` : ''}</td></tr>`).join('');
  const sc = n.split_check;
  const split = sc && sc.leaked > 0
    ? `<div class="note"><b>训练/测试泄漏 split leak:</b> ${sc.leaked} test items copy (${sc.copies}) or nearly copy (${sc.near_copies}) one of the ${sc.training_examples} training utterances.
 On the ${sc.clean.n} clean items: joint <b>${esc(pct(sc.clean.joint_accuracy))}</b>, act ${esc(pct(sc.clean.act_accuracy))}, service ${esc(pct(sc.clean.service_accuracy))}; NLP.js joint ${esc(pct(sc.clean.baseline_joint_accuracy))}.
<details><summary>offenders</summary><table><thead><tr><th>id</th><th>test text</th><th>training text</th><th>kind</th><th>Jaccard</th></tr></thead><tbody>${sc.offenders
      .map((o) => `<tr><td>${esc(o.id)}</td><td>${esc(o.text)}</td><td>${esc(o.training)}</td><td>${esc(o.kind)}</td><td>${o.jaccard}</td></tr>`).join('')}</tbody></table></details></div>`
    : sc ? `<p class="muted">split check: no test item copies a training utterance (${sc.training_examples} training examples).</p>` : '';
  return `<section><h2>意图理解 NLU <span class="muted">n = ${n.n} · ${esc(n.file ?? '')}</span></h2>
${split}
<div class="two"><div><h3>我们 vs NLP.js — ours vs baseline</h3>${chart}</div>
<div><h3>延迟 latency</h3>${lat}${slot}${b ? `<p class="muted">NLP.js trained on the same ${b.training_examples} examples in ${num(b.train_ms / 1000, 1)} s.</p>` : ''}</div></div>
${perAct}
${perService}
<h3>最易混淆的事项 most confused services</h3>${confusionMatrix(r)}
<div class="two"><div><h4>事项混淆 service pairs</h4><ol>${pairs || '<li class="muted">–</li>'}</ol></div>
<div><h4>意图混淆 act pairs</h4><ol>${actPairs || '<li class="muted">–</li>'}</ol></div></div>
<details><summary>错误样例 mistakes (${(n.mistakes ?? []).length})</summary><table><thead><tr><th>id</th><th>文本 text</th><th>期望 expected</th><th>预测 predicted</th></tr></thead><tbody>${mistakes}</tbody></table></details>
</section>`;
}

function scenarioSection(r: Report): string {
  const s = r.scenarios;
  if (s.skipped) return `<section><h2>场景 Scenarios</h2><p class="muted">未运行 skipped: ${esc(s.error ?? '')}</p></section>`;
  const rows = s.items.map((i) => {
    const transcript = transcriptHtml(i.transcript);
    const fields = i.application ? `<div class="muted">application ${esc(i.application.id)} (${esc(i.application.status ?? '')}): ${esc(JSON.stringify(i.application.fields))}</div>` : '';
    return `<tr class="${i.ok ? 'okrow' : 'badrow'}"><td>${esc(i.id)}</td><td><span class="badge ${i.ok ? 'ok' : 'bad'}">${i.ok ? '通过 ok' : '失败 fail'}</span></td>`
      + `<td><code>${esc(i.service)}</code></td><td>${esc(i.citizen)} · ${esc(i.channel)}</td>`
      + `<td class="r">${i.turns}${i.expected.max_turns !== undefined ? ` / ${i.expected.max_turns}` : ''}</td>`
      + `<td>${esc(i.outcome ?? '–')} <span class="muted">(期望 ${esc(i.expected.outcome)})</span></td>`
      + `<td>${esc(i.failure ?? '')}${transcript || fields ? `<details><summary>对话 transcript</summary>${transcript}${fields}</details>` : ''}</td></tr>`;
  }).join('');
  const byService = Object.entries(s.mean_turns_by_service)
    .map(([k, v]) => `<tr><td><code>${esc(k)}</code> <span class="muted">${esc(r.service_names[k] ?? '')}</span></td><td class="r">${num(v)}</td></tr>`).join('');
  return `<section><h2>场景 Scenarios <span class="muted">n = ${s.n} · ${esc(s.file ?? '')}</span></h2>
${s.error ? `<p class="bad">${esc(s.error)}</p>` : ''}
<p>成功率 success rate <b>${esc(pct(s.success_rate))}</b> · 平均轮次 mean turns <b>${esc(num(s.mean_turns))}</b> · ${esc(r.service_names[s.seed_service ?? ''] ?? '')}平均轮次 criminal-record mean turns <b>${esc(num(s.mean_turns_criminal_record))}</b></p>
<details><summary>按事项平均轮次 mean turns by service</summary><table class="kv">${byService}</table></details>
<table><thead><tr><th>id</th><th>结果 result</th><th>事项 service</th><th>市民 citizen</th><th>轮次 turns</th><th>结局 outcome</th><th>失败原因 failure</th></tr></thead><tbody>${rows}</tbody></table>
</section>`;
}

function transcriptHtml(turns: readonly TranscriptTurn[]): string {
  return turns.map((t) =>
    `<div class="msg c">市民 citizen: ${esc(t.citizen)}</div><div class="msg a">小申 agent: ${esc(t.reply)}`
    + ` <span class="muted">[act ${esc(t.act ?? '')}, service ${esc(t.service ?? 'null')}, awaiting ${esc(t.awaiting ?? 'null')}, outcome ${esc(t.outcome ?? 'null')}, card ${esc(t.card ?? 'null')}]</span></div>`).join('');
}

function passTable(caption: string, rows: Record<string, PassTally> | undefined, names: Record<string, string>): string {
  const entries = Object.entries(rows ?? {});
  if (!entries.length) return '';
  const body = entries.map(([k, t]) => `<tr><td><code>${esc(k)}</code> <span class="muted">${esc(names[k] ?? '')}</span></td>`
    + `<td class="r">${t.ok} / ${t.n}</td><td>${bar(t.pass_rate, t.ok === t.n ? COLORS.ok : COLORS.bad)}</td></tr>`).join('');
  return `<table class="kv"><caption>${esc(caption)}</caption><tbody>${body}</tbody></table>`;
}

function conversationRows(items: readonly ConversationResult[], r: Report): string {
  return items.map((i) => {
    const apps = i.applications.length
      ? `<div class="muted">applications: ${esc(i.applications.map((a) => `${a.id} ${a.service} ${a.status} ${JSON.stringify(a.fields)}`).join(' | '))}</div>` : '';
    const details = i.transcript?.length || apps ? `<details><summary>对话 transcript</summary>${transcriptHtml(i.transcript ?? [])}${apps}</details>` : '';
    return `<tr class="${i.ok ? 'okrow' : 'badrow'}"><td>${esc(i.id)}</td><td><span class="badge ${i.ok ? 'ok' : 'bad'}">${i.ok ? '通过 ok' : '失败 fail'}</span></td>`
      + `<td>${i.service ? `<code>${esc(i.service)}</code> <span class="muted">${esc(r.service_names[i.service] ?? '')}</span>` : ''}</td>`
      + `<td>${esc(i.citizen ?? '匿名 anonymous')} · ${esc(i.channel)}${i.kind ? ` · ${esc(i.kind)}` : ''}</td>`
      + `<td class="r">${i.turns_passed} / ${i.scripted}</td><td>${esc(i.outcome ?? '–')}</td>`
      + `<td>${i.failed.map((f) => `<div>${esc(f)}</div>`).join('')}${details}</td></tr>`;
  }).join('');
}

const CONVERSATION_HEAD = '<thead><tr><th>id</th><th>结果 result</th><th>事项 service</th><th>市民 citizen</th><th>通过轮次 turns ok</th><th>结局 outcome</th><th>未通过的检查 failed checks</th></tr></thead>';

function conversationSection(r: Report, s: ConversationSection): string {
  const title = '多轮对话 Conversations';
  if (s.skipped) return `<section><h2>${title}</h2><p class="muted">未运行 skipped: ${esc(s.error ?? '')}</p></section>`;
  const failed = s.items.filter((i) => !i.ok);
  return `<section><h2>${title} <span class="muted">n = ${s.n} · ${esc(s.file ?? '')}</span></h2>
${s.error ? `<p class="bad">${esc(s.error)}</p>` : ''}
<p>成功率 success rate <b>${esc(pct(s.success_rate))}</b> · 单轮通过率 turn pass rate <b>${esc(pct(s.turn_pass_rate))}</b> (${s.turns_passed ?? 0} / ${s.turns_total ?? 0}) · 平均轮次 mean turns <b>${esc(num(s.mean_turns))}</b></p>
<div class="two"><div>${passTable('按覆盖点 per covers tag', s.by_cover, {})}</div><div>${passTable('按事项 per service', s.by_service, r.service_names)}</div></div>
<h3>失败的对话 failed conversations (${failed.length})</h3>
${failed.length ? `<table>${CONVERSATION_HEAD}<tbody>${conversationRows(failed, r)}</tbody></table>` : '<p class="muted">–</p>'}
<details><summary>全部 all ${s.n}</summary><table>${CONVERSATION_HEAD}<tbody>${conversationRows(s.items, r)}</tbody></table></details>
</section>`;
}

function consentSection(r: Report, s: ConsentSection): string {
  const title = '确认同意 Consent';
  if (s.skipped) return `<section><h2>${title}</h2><p class="muted">未运行 skipped: ${esc(s.error ?? '')}</p></section>`;
  const attempts = s.n - s.controls;
  const kinds = Object.entries(s.by_kind ?? {}).map(([k, t]) => `<tr><td>${esc(k)}</td><td class="r">${t.n}</td>`
    + `<td class="r ${t.wrongful ? 'bad' : ''}">${t.wrongful}</td><td class="r">${t.ok} / ${t.n}</td></tr>`).join('');
  const failed = s.items.filter((i) => !i.ok);
  return `<section><h2>${title} <span class="muted">n = ${s.n} · ${esc(s.file ?? '')}</span></h2>
${s.error ? `<p class="bad">${esc(s.error)}</p>` : ''}
<p>误提交 wrongful submissions <b class="${s.wrongful_submissions ? 'bad' : ''}">${esc(s.wrongful_submissions ?? 'n/a')}</b> / ${attempts} · 对照组已提交 controls submitted <b>${esc(s.controls_submitted ?? 'n/a')}</b> / ${s.controls} · 全部检查通过 all checks pass ${esc(pct(s.success_rate))}</p>
${s.wrongful?.length ? `<p class="bad">submitted although they should not: ${esc(s.wrongful.join(', '))}</p>` : ''}
${s.controls_not_submitted?.length ? `<p class="bad">controls that did not submit: ${esc(s.controls_not_submitted.join(', '))}</p>` : ''}
<table class="kv"><thead><tr><th>类别 kind</th><th>n</th><th>误提交 wrongful</th><th>通过 ok</th></tr></thead><tbody>${kinds}</tbody></table>
<details><summary>未通过 failed (${failed.length})</summary><table>${CONVERSATION_HEAD}<tbody>${conversationRows(failed, r)}</tbody></table></details>
</section>`;
}

function retrievalSection(r: Report): string {
  const t = r.retrieval;
  if (t.skipped) return `<section><h2>检索 Retrieval</h2><p class="muted">未运行 skipped: ${esc(t.error ?? '')}</p></section>`;
  if (t.error && t.recall_at_5 === null) return `<section><h2>检索 Retrieval</h2><p class="bad">未完成 not run: ${esc(t.error)}</p></section>`;
  const T = THRESHOLDS;
  const sections = Object.entries(t.by_section ?? {}).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="r">${v.n}</td>`
    + `<td>${bar(v.section_at_1, COLORS.base, 120)}</td><td>${bar(v.answer_section_accuracy, COLORS.ours, 120)}</td></tr>`).join('');
  const services = Object.entries(t.by_service ?? {}).map(([k, v]) => `<tr><td><code>${esc(k)}</code> <span class="muted">${esc(r.service_names[k] ?? '')}</span></td>`
    + `<td class="r">${v.n}</td><td>${bar(v.recall_at_5, COLORS.base, 100)}</td><td>${bar(v.section_at_1, COLORS.base, 100)}</td><td>${bar(v.answer_section_accuracy, COLORS.ours, 100)}</td></tr>`).join('');
  const failures = (t.failures ?? []).filter((f) => f.via === 'chat').map((f) => `<tr><td>${esc(f.id)}</td><td>${esc(f.question)}</td>`
    + `<td><code>${esc(f.expected.service)}</code> ${esc(f.expected.sections.join(' / '))}</td>`
    + `<td>${f.got ? `<code>${esc(f.got.service)}</code> ${esc(f.got.section)}${f.got.title ? ` <span class="muted">${esc(f.got.title)}</span>` : ''}` : '<span class="muted">(no citation)</span>'}${f.error ? ` <span class="bad">${esc(f.error)}</span>` : ''}</td></tr>`).join('');
  return `<section><h2>检索 Retrieval <span class="muted">n = ${t.n} · ${t.section_n ?? 0} with sections · ${esc(t.file ?? '')}</span></h2>
${t.error ? `<p class="bad">${esc(t.error)}</p>` : ''}
<table class="kv"><tr><td>召回率@5 recall@5</td><td>${bar(t.recall_at_5, COLORS.ours, 220)}</td></tr>
<tr><td>平均倒数排名 MRR</td><td>${bar(t.mrr, COLORS.ours, 220, num(t.mrr, 3))}</td></tr>
<tr><td>首条命中章节 section@1 (search)</td><td>${bar(t.section_at_1, COLORS.ours, 220)}</td></tr>
<tr><td>回答章节准确率 answer section accuracy (chat, ≥ ${T.retrieval_answer_section_accuracy * 100}%)</td><td>${bar(t.answer_section_accuracy, (t.answer_section_accuracy ?? 0) >= T.retrieval_answer_section_accuracy ? COLORS.ok : COLORS.bad, 220)}</td></tr>
<tr><td>回答事项准确率 answer service accuracy (chat)</td><td>${bar(t.answer_service_accuracy, COLORS.ours, 220)}</td></tr></table>
<table class="kv"><caption>按章节 per section</caption><thead><tr><th>章节 section</th><th>n</th><th>section@1</th><th>answer</th></tr></thead><tbody>${sections}</tbody></table>
<details><summary>按事项 per service</summary><table class="kv"><thead><tr><th>事项 service</th><th>n</th><th>recall@5</th><th>section@1</th><th>answer</th></tr></thead><tbody>${services}</tbody></table></details>
<details><summary>回答未命中 chat answers that missed (${(t.failures ?? []).filter((f) => f.via === 'chat').length})</summary><table><thead><tr><th>id</th><th>问题 question</th><th>期望 expected</th><th>首条引用 first citation</th></tr></thead><tbody>${failures}</tbody></table></details>
</section>`;
}

const CSS = `
*{box-sizing:border-box}body{font-family:-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f5f6f8;color:#212121;font-size:14px}
header{background:#0d47a1;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
main{padding:18px 28px;max-width:1400px}section{background:#fff;border-radius:8px;padding:14px 18px;margin:16px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:18px;margin:4px 0 10px}h3{font-size:15px;margin:12px 0 6px}h4{margin:8px 0 4px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.tile{background:#fff;border-radius:8px;padding:10px 12px;border-top:4px solid #90a4ae;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.tile.ok{border-top-color:${COLORS.ok}}.tile.bad{border-top-color:${COLORS.bad}}
.tl{font-size:13px;color:#455a64}.tl span{display:block;font-size:11px;color:#78909c}.tv{font-size:26px;font-weight:600;margin:4px 0}.ts{font-size:11px;color:#78909c}
table{border-collapse:collapse;margin:8px 0;width:100%}caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border-bottom:1px solid #eceff1;padding:4px 6px;text-align:left;vertical-align:top}td.r{text-align:right}
table.kv{width:auto}.muted{color:#78909c;font-weight:normal;font-size:12px}.bad{color:${COLORS.bad}}
.badge{padding:1px 6px;border-radius:4px;color:#fff;font-size:12px;white-space:nowrap}.badge.ok{background:${COLORS.ok}}.badge.bad{background:${COLORS.bad}}
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
.matrix td.cm{text-align:center;min-width:34px;border:1px solid #eceff1}.matrix th.vert{height:150px;vertical-align:bottom;white-space:nowrap}
.matrix th.vert span{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;font-size:12px}.matrix{width:auto}.rowh{white-space:nowrap;font-weight:normal}
.scroll{overflow-x:auto}.msg{margin:3px 0;padding:3px 6px;border-radius:4px}.msg.c{background:#e3f2fd}.msg.a{background:#f1f8e9}
.gate{padding:10px 14px;border-radius:8px;margin:12px 0;color:#fff}.gate.ok{background:${COLORS.ok}}.gate.bad{background:${COLORS.bad}}
.gate ul{margin:6px 0 0;padding-left:18px}.note{background:#fff3e0;border-left:4px solid ${COLORS.warn};padding:8px 12px;margin:8px 0}code{font-size:12px}svg text{fill:#263238}
`;

export function renderHtml(r: Report): string {
  const n = r.nlu;
  const s = r.scenarios;
  const t = r.retrieval;
  const cv = r.conversations;
  const cs = r.consent;
  const T = THRESHOLDS;
  const base = n.baseline;
  const tiles = [
    tile('联合准确率', 'NLU joint accuracy', pct(n.joint_accuracy), `NLP.js ${pct(base?.joint_accuracy)} · ≥ ${T.nlu_joint_accuracy * 100}%`,
      stateOf(n.joint_accuracy, (v) => v >= T.nlu_joint_accuracy)),
    tile('意图准确率', 'act accuracy', pct(n.act_accuracy), `NLP.js ${pct(base?.act_accuracy)} · ≥ ${T.nlu_act_accuracy * 100}%`,
      stateOf(n.act_accuracy, (v) => v >= T.nlu_act_accuracy)),
    tile('事项准确率', 'service accuracy', pct(n.service_accuracy), `NLP.js ${pct(base?.service_accuracy)}`, stateOf(n.service_accuracy, () => true)),
    tile('槽位 F1', 'slot F1', pct(n.slot_f1), `≥ ${T.nlu_slot_f1 * 100}%`, stateOf(n.slot_f1, (v) => v >= T.nlu_slot_f1)),
    tile('延迟 p95', 'NLU latency p95', n.p95_ms === null ? '–' : `${num(n.p95_ms)} ms`, `p50 ${num(n.p50_ms)} ms · ≤ ${T.nlu_p95_ms} ms`,
      stateOf(n.p95_ms, (v) => v <= T.nlu_p95_ms)),
    tile('场景成功率', 'scenario success', pct(s.success_rate), `n = ${s.n} · ≥ ${T.scenarios_success_rate * 100}%`,
      stateOf(s.success_rate, (v) => v >= T.scenarios_success_rate)),
    tile('平均轮次', 'mean turns', num(s.mean_turns), 'citizen messages / scenario', stateOf(s.mean_turns, () => true)),
    tile('无犯罪证明轮次', 'criminal-record turns', num(s.mean_turns_criminal_record), `≤ ${T.scenarios_mean_turns_criminal_record}`,
      stateOf(s.mean_turns_criminal_record, (v) => v <= T.scenarios_mean_turns_criminal_record)),
    tile('多轮对话成功率', 'conversation success', pct(cv.success_rate), `n = ${cv.n} · turns ${pct(cv.turn_pass_rate)} · ≥ ${T.conversations_success_rate * 100}%`,
      stateOf(cv.success_rate, (v) => v >= T.conversations_success_rate)),
    tile('误提交', 'consent: wrongful submissions', cs.wrongful_submissions === null ? '–' : String(cs.wrongful_submissions),
      `of ${cs.n - cs.controls} · controls ${cs.controls_submitted ?? '–'} / ${cs.controls} submitted`,
      stateOf(cs.wrongful_submissions, (v) => v <= T.consent_wrongful_submissions && cs.controls_submitted === cs.controls)),
    tile('检索召回@5', 'retrieval recall@5', pct(t.recall_at_5), `MRR ${num(t.mrr, 3)} · ≥ ${T.retrieval_recall_at_5 * 100}%`,
      stateOf(t.recall_at_5, (v) => v >= T.retrieval_recall_at_5)),
    tile('回答章节准确率', 'answer section accuracy', pct(t.answer_section_accuracy), `section@1 ${pct(t.section_at_1)} · ≥ ${T.retrieval_answer_section_accuracy * 100}%`,
      stateOf(t.answer_section_accuracy, (v) => v >= T.retrieval_answer_section_accuracy)),
  ].join('');
  const gate = r.gate
    ? `<div class="gate ${r.gate.passed ? 'ok' : 'bad'}"><b>门禁 gate: ${r.gate.passed ? '通过 passed' : '未通过 FAILED'}</b><ul>${r.gate.checks
        .filter((c) => !c.passed || c.skipped)
        .map((c) => `<li>${c.skipped ? 'skipped' : 'failed'}: ${esc(c.name)} = ${esc(c.actual ?? 'n/a')} (needs ${esc(c.condition)})</li>`).join('')}</ul></div>`
    : '';
  const warnings = r.warnings.length
    ? `<section><h2>数据集警告 Dataset warnings (${r.warnings.length})</h2><ul>${r.warnings.map((w) => `<li>${esc(w.message)}</li>`).join('')}</ul></section>`
    : '';
  return `<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>小申智能办 评测报告 · Evaluation report</title><style>${CSS}</style></head>
<body><header><h1>小申智能办 评测报告 · Evaluation report</h1>
<p>生成时间 generated ${esc(r.generated_at)} · 数据库 database: ${esc(r.database)} · NLU engine ${esc(r.engine.name ?? r.engine.nlu)} (${esc(r.engine.nlu)}) · baseline ${esc(r.engine.baseline)} · ${(r.duration_ms / 1000).toFixed(1)} s</p></header>
<main>${gate}<div class="tiles">${tiles}</div>
${warnings}
${nluSection(r)}
${scenarioSection(r)}
${conversationSection(r, r.conversations)}
${consentSection(r, r.consent)}
${retrievalSection(r)}
</main></body></html>
`;
}
