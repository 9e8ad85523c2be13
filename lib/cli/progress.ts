// A progress line for long runs (the demo on a slow machine, the bench, the soak): on a terminal,
// one line on stderr rewritten in place with what is running, how far along, and for how long; on
// anything else, silence (logs and pipes get the final report only). stdout is never touched, so
// `--json` output stays clean.

export interface ProgressOptions {
  /** Where the line goes; default process.stderr. */
  stream?: { write(text: string): unknown; isTTY?: boolean };
  /** Force on or off; default: on when the stream is a terminal and NO_COLOR/CI are unset. */
  enabled?: boolean;
}

const FRAMES = ['|', '/', '-', '\\'];

export class Progress {
  private readonly stream: { write(text: string): unknown; isTTY?: boolean };
  private readonly enabled: boolean;
  private readonly started = Date.now();
  private label = '';
  private done = 0;
  private total = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.enabled = opts.enabled ?? (this.stream.isTTY === true && process.env.CI === undefined && process.env.TERM !== 'dumb');
    if (this.enabled) {
      // Redrawn on a timer so the elapsed time moves while a step waits; unref'd, it never keeps
      // the process alive.
      this.timer = setInterval(() => this.draw(), 200);
      this.timer.unref();
    }
  }

  /** What is running now; `total` > 0 shows "done/total". */
  update(label: string, done = 0, total = 0): void {
    this.label = label;
    this.done = done;
    this.total = total;
    this.draw();
  }

  /** Erases the line, so that other output can be printed; the next update or tick redraws it. */
  clear(): void {
    if (this.enabled) this.stream.write('\r\u001b[2K');
  }

  /** Erases the line for good (call before printing the report). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private draw(): void {
    if (!this.enabled || this.timer === undefined) return;
    const seconds = ((Date.now() - this.started) / 1000).toFixed(0);
    const count = this.total > 0 ? ` ${this.done}/${this.total}` : '';
    this.frame = (this.frame + 1) % FRAMES.length;
    this.stream.write(`\r\u001b[2K${FRAMES[this.frame]} ${this.label}${count}  ${seconds}s`);
  }
}
