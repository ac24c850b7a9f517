// A Transport for unit tests: records every call and answers exec from a function.
import type { ExecOptions, ExecResult, TransferOptions, TransferResult, Transport } from '../../../../src/transport/types.js';

export interface RecordedCall {
  host: string;
  kind: 'exec' | 'upload';
  text: string;
  at: number;
}

export class FakeTransport implements Transport {
  constructor(
    readonly host: string,
    private readonly calls: RecordedCall[],
    private readonly answer: (host: string, command: string) => Partial<ExecResult> | Promise<Partial<ExecResult>> = () => ({}),
    private readonly uploadSha = 'a'.repeat(64),
  ) {}
  async connect(): Promise<void> {}
  async exec(command: string, _options?: ExecOptions): Promise<ExecResult> {
    this.calls.push({ host: this.host, kind: 'exec', text: command, at: this.calls.length });
    const answer = await this.answer(this.host, command);
    return { exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...answer };
  }
  async upload(source: { path: string } | { content: string | Buffer }, remotePath: string, _options: TransferOptions): Promise<TransferResult> {
    this.calls.push({
      host: this.host,
      kind: 'upload',
      text: `${'path' in source ? source.path : '<content>'} -> ${remotePath}`,
      at: this.calls.length,
    });
    return { bytes: 1, sha256: this.uploadSha };
  }
  async download(): Promise<TransferResult> {
    throw new Error('not used');
  }
  async close(): Promise<void> {}
}
