import cliProgress from 'cli-progress';
import type { IngestProgress, IngestSummary } from './kb.js';

/** A progress reporter: a bar on stderr when it is a TTY, plain lines otherwise. */
export function progressReporter(label = 'embedding'): { onProgress: (p: IngestProgress) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | undefined;
  let lastPlain = -1;
  let phase = '';
  return {
    onProgress(p) {
      if (p.total === 0) return;
      if (process.stderr.isTTY) {
        if (!bar || phase !== p.phase) {
          bar?.stop();
          phase = p.phase;
          bar = new cliProgress.SingleBar(
            { stream: process.stderr, format: `${p.phase === 'embed' ? label : 'writing'} [{bar}] {value}/{total} {percentage}% {eta_formatted}` },
            cliProgress.Presets.shades_classic,
          );
          bar.start(p.total, 0);
        }
        bar.update(p.done);
      } else {
        const pct = Math.floor((p.done / p.total) * 10);
        if (phase !== p.phase) {
          phase = p.phase;
          lastPlain = -1;
        }
        if (pct !== lastPlain || p.done === p.total) {
          lastPlain = pct;
          process.stderr.write(`${p.phase === 'embed' ? label : 'writing'}: ${p.done}/${p.total}\n`);
        }
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

export function formatSummary(s: IngestSummary): string {
  const lines = [
    `files ${s.files}  chunks ${s.chunks}  embedded ${s.embedded}  unchanged ${s.unchanged}  written ${s.written}  deleted ${s.deleted}  skipped ${s.skipped}  ${s.ms} ms`,
    `model ${s.model} (dim ${s.dim})${s.refit ? '  [IDF re-learned]' : ''}`,
  ];
  for (const i of s.issues) lines.push(`${i.severity}: ${i.file}: ${i.problem}`);
  return lines.join('\n');
}
