// Collects a command's output without letting a runaway command exhaust memory:
// beyond the cap it keeps the head (for parsers) and the tail (for error messages).

export const defaultOutputCapBytes = 16 * 1024 * 1024;

export class CappedOutput {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private droppedBytes = 0;

  constructor(private readonly capBytes: number = defaultOutputCapBytes) {}

  push(chunk: Buffer | string): void {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const headRoom = Math.floor(this.capBytes / 2) - this.headBytes;
    if (headRoom > 0) {
      const taken = data.subarray(0, headRoom);
      this.head.push(taken);
      this.headBytes += taken.length;
      data = data.subarray(taken.length);
    }
    if (data.length === 0) return;
    this.tail.push(data);
    this.tailBytes += data.length;
    const tailCap = this.capBytes - Math.floor(this.capBytes / 2);
    for (let first = this.tail[0]; first && this.tailBytes > tailCap; first = this.tail[0]) {
      const excess = this.tailBytes - tailCap;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.droppedBytes += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.droppedBytes += excess;
      }
    }
  }

  get truncated(): boolean {
    return this.droppedBytes > 0;
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    if (!this.truncated) return head + tail;
    return `${head}\n[orchestrate: ${this.droppedBytes} bytes of output omitted]\n${tail}`;
  }
}
