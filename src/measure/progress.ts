// A one-line progress bar on a terminal; silent when stderr is not a TTY or output is JSON.
export class Progress {
  private readonly enabled: boolean;
  private last = 0;
  constructor(private readonly label: string, private readonly total: number, quiet = false) {
    this.enabled = !quiet && Boolean(process.stderr.isTTY) && total > 1;
  }
  tick(done: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < this.total) return;
    this.last = now;
    const width = 30;
    const filled = Math.round((done / this.total) * width);
    process.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total}`);
  }
  done(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }
}
