/**
 * Progress on stderr: a cli-progress bar on a terminal, plain periodic lines otherwise
 * (CI logs, pipes), so stdout carries only the result table.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  tick(by?: number): void;
  stop(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Force the plain mode (tests, or when stderr is a TTY but a log is wanted). */
  plain?: boolean;
  /** Plain mode: minimum milliseconds between two lines (a line is also printed every 25%). */
  intervalMs?: number;
}

export function startProgress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = !opts.plain && stream.isTTY === true && !process.env.CI;
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label.padEnd(22)} {bar} {value}/{total} {percentage}% | {duration_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
        barsize: 30,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      tick: (by = 1) => bar.increment(by),
      stop: () => bar.stop(),
    };
  }

  const interval = opts.intervalMs ?? 5000;
  const started = Date.now();
  let done = 0;
  let lastAt = started;
  let lastQuarter = 0;
  let stopped = false;
  const line = () => {
    const pct = total ? Math.floor((done / total) * 100) : 100;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    stream.write(`[eval] ${label}: ${done}/${total} (${pct}%) ${secs}s\n`);
  };
  stream.write(`[eval] ${label}: 0/${total}\n`);
  return {
    tick(by = 1) {
      done += by;
      const quarter = total ? Math.floor((done / total) * 4) : 4;
      const now = Date.now();
      if (done < total && (quarter > lastQuarter || now - lastAt >= interval)) {
        lastQuarter = quarter;
        lastAt = now;
        line();
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      line();
    },
  };
}
