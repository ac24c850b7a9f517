// Finds where one command's output ends in a stream shared by many commands (the remote shell of
// remote-shell.ts). The shell prints `\x1e<nonce><suffix>\n` after each command; everything before the
// marker is the command's output, the suffix (its exit status on stdout) is handed over, and nothing
// of the marker reaches the output, however the stream is cut into chunks.

const newline = 0x0a;
/** A status suffix is a space and a few digits; anything longer means the stream is not what we expect. */
const maxSuffixBytes = 32;

export class EndMarkerScanner {
  private held: Buffer = Buffer.alloc(0);
  private markerSeen = false;
  private done = false;

  constructor(
    private readonly marker: Buffer,
    private readonly forward: (chunk: Buffer) => void,
    private readonly onEnd: (suffix: string) => void,
  ) {
    if (marker.length < 2) throw new RangeError('an end marker needs at least 2 bytes');
  }

  get ended(): boolean {
    return this.done;
  }

  /** Output after the end (a background process still writing) belongs to no command and is dropped. */
  push(chunk: Buffer): void {
    if (this.done) return;
    const data = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    if (!this.markerSeen) {
      const at = data.indexOf(this.marker);
      if (at < 0) {
        // The marker may begin in this chunk's last bytes: hold those back until the next one.
        const keep = Math.min(this.marker.length - 1, data.length);
        const safe = data.length - keep;
        if (safe > 0) this.forward(data.subarray(0, safe));
        this.held = Buffer.from(data.subarray(safe));
        return;
      }
      if (at > 0) this.forward(data.subarray(0, at));
      this.markerSeen = true;
      this.held = Buffer.from(data.subarray(at + this.marker.length));
    } else {
      this.held = data;
    }
    const end = this.held.indexOf(newline);
    if (end < 0 && this.held.length <= maxSuffixBytes) return;
    this.done = true;
    const suffix = end < 0 ? this.held : this.held.subarray(0, end);
    this.held = Buffer.alloc(0);
    this.onEnd(suffix.toString('latin1'));
  }

  /** The stream ended without a marker: whatever was held back is output after all. */
  flush(): void {
    if (!this.markerSeen && this.held.length > 0) this.forward(this.held);
    this.held = Buffer.alloc(0);
  }
}
