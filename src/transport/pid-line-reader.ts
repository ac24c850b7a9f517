// Commands go out as `echo $$; exec sh -c CMD`, so the first stdout line is the pid (and process group)
// of the remote command. This takes that line off the front of the output.

export class PidLineReader {
  /** Resolves with the pid, or undefined when the first line was something else or never came. */
  readonly pid: Promise<number | undefined>;
  private resolvePid!: (pid: number | undefined) => void;
  private pending: Buffer | undefined = Buffer.alloc(0);

  constructor(private readonly forward: (chunk: Buffer) => void) {
    this.pid = new Promise((resolve) => {
      this.resolvePid = resolve;
    });
  }

  push(chunk: Buffer): void {
    if (this.pending === undefined) {
      this.forward(chunk);
      return;
    }
    const data = Buffer.concat([this.pending, chunk]);
    const newline = data.indexOf(0x0a);
    if (newline < 0 && data.length < 24) {
      this.pending = data;
      return;
    }
    this.pending = undefined;
    const first = newline < 0 ? '' : data.subarray(0, newline).toString('latin1');
    if (/^[1-9][0-9]{0,9}$/.test(first)) {
      this.resolvePid(Number(first));
      if (newline + 1 < data.length) this.forward(data.subarray(newline + 1));
    } else {
      // Something printed first (a chatty login shell): pass everything through, the pid stays unknown.
      this.resolvePid(undefined);
      this.forward(data);
    }
  }

  /** The command ended: whatever is held back is output. */
  flush(): void {
    if (this.pending !== undefined && this.pending.length > 0) this.forward(this.pending);
    this.pending = undefined;
    this.resolvePid(undefined);
  }
}
