/**
 * Progress for long-running commands: a redrawn bar on a TTY, plain lines otherwise (logs
 * and CI keep every line readable, and a bar's carriage returns would garble them).
 */
export interface ProgressOptions {
  label: string;
  total: number;
  /** Unit shown after counts, e.g. "B" or "pairs". */
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Plain lines are printed at most this often. Default 2000 ms. */
  lineIntervalMs?: number;
}

export interface ProgressUpdate {
  /**
   * False while `total` is only a count so far that may still grow (an input still being
   * counted): shown as `done/total+` with no percentage, filled bar or ETA, none of which would
   * be true. Default true.
   */
  totalFinal?: boolean;
}

function human(value: number, unit: string): string {
  if (unit !== 'B') return `${value}${unit ? ` ${unit}` : ''}`;
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let scaled = value;
  let i = 0;
  while (scaled >= 1024 && i < units.length - 1) {
    scaled /= 1024;
    i++;
  }
  return `${scaled.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export class Progress {
  private readonly options: Required<ProgressOptions>;
  private started = Date.now();
  private lastLine = 0;
  private done = 0;
  /** Done at the first update: work finished before this run (a resumed task) is not its speed. */
  private baseline?: number;
  private detail = '';
  private totalFinal = true;

  constructor(options: ProgressOptions) {
    this.options = { unit: '', stream: process.stderr, lineIntervalMs: 2000, ...options };
  }

  /** `detail` is shown after the counts, e.g. a rate in another unit ("830 pairs/s"). */
  update(done: number, total = this.options.total, detail = this.detail, { totalFinal = true }: ProgressUpdate = {}): void {
    if (totalFinal && !this.totalFinal) {
      // The work is timed from when its total is known: the wait for the count is not its speed.
      this.started = Date.now();
      this.baseline = done;
    }
    this.baseline ??= done;
    this.done = done;
    this.options.total = total;
    this.detail = detail;
    this.totalFinal = totalFinal;
    if (this.options.stream.isTTY) {
      // Clear to the end of the line: a shorter redraw would leave the tail of the last one.
      this.options.stream.write(`\r${this.render(true)}\x1b[K`);
    } else if (Date.now() - this.lastLine >= this.options.lineIntervalMs) {
      this.lastLine = Date.now();
      this.options.stream.write(`${this.render(false)}\n`);
    }
  }

  finish(): void {
    this.update(this.options.total);
    const line = this.render(!!this.options.stream.isTTY);
    this.options.stream.write(this.options.stream.isTTY ? `\r${line}\n` : `${line}\n`);
  }

  private render(bar: boolean): string {
    const { label, total, unit } = this.options;
    const fraction = !this.totalFinal ? 0 : total > 0 ? Math.min(1, this.done / total) : 1;
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? (this.done - (this.baseline ?? 0)) / seconds : 0;
    const eta = this.totalFinal && rate > 0 && fraction < 1 ? ` eta ${Math.ceil((total - this.done) / rate)}s` : '';
    const share = this.totalFinal ? ` ${(fraction * 100).toFixed(0)}%` : '+';
    const counts = `${human(this.done, unit)}/${human(total, unit)}${share}${this.detail ? ` ${this.detail}` : ''}`;
    if (!bar) return `${label}: ${counts}${eta}`;
    const width = 24;
    const filled = Math.round(fraction * width);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counts}${eta}`;
  }
}
