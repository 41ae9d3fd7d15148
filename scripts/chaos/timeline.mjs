// Named windows of a run (startup, baseline, one per fault, drain): each request is tagged
// with the window its start fell in.

export class Timeline {
  constructor() {
    this.t0 = Date.now();
    this.windows = [{ name: 'startup', start: this.t0 }];
  }

  /** Starts window `name` now (ending the previous one) and returns its start. */
  open(name, at = Date.now()) {
    this.windows[this.windows.length - 1].end = at;
    this.windows.push({ name, start: at });
    return at;
  }

  close(at = Date.now()) {
    this.windows[this.windows.length - 1].end ??= at;
  }

  /** Name of the window that holds time `t`. */
  at(t) {
    for (let i = this.windows.length - 1; i >= 0; i--) if (this.windows[i].start <= t) return this.windows[i].name;
    return this.windows[0].name;
  }

  get(name) {
    return this.windows.find((w) => w.name === name);
  }

  /** Seconds since the run started. */
  rel(t) {
    return Math.round(t - this.t0) / 1000;
  }
}
