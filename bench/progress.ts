/**
 * Progress on stderr while the bench runs: one updating line on a terminal, a line every few
 * seconds otherwise (CI logs). stdout is kept for the final table.
 */
export interface Progress {
  update(status: string): void;
  done(summary: string): void;
}

export function progress(phase: string): Progress {
  const tty = process.stderr.isTTY === true;
  const start = Date.now();
  let last = 0;
  const prefix = () => `[${phase} ${((Date.now() - start) / 1000).toFixed(1)}s]`;
  return {
    update(status) {
      const now = Date.now();
      if (tty) {
        if (now - last < 100) return;
        last = now;
        process.stderr.write(`\r\x1b[2K${prefix()} ${status}`);
      } else if (now - last >= 3000) {
        last = now;
        process.stderr.write(`${prefix()} ${status}\n`);
      }
    },
    done(summary) {
      process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${prefix()} ${summary}\n`);
    },
  };
}

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}
