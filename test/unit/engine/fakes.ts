// Fakes for engine tests: transports that record commands and answer from a script, playbooks from text.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnreachableError } from '../../../src/errors.js';
import type { OpenTransportsFn, Reporter, RunEvent } from '../../../src/engine/types.js';
import type { ExecOptions, ExecResult, TransferResult, Transport } from '../../../src/transport/types.js';

export type Answer = Partial<ExecResult> | undefined;
export type Script = (command: string, host: string, options: ExecOptions) => Answer | Promise<Answer>;

export interface LogEntry {
  host: string;
  kind: 'exec' | 'upload' | 'download';
  text: string;
  become?: boolean;
}

export class FakeTransport implements Transport {
  closed = false;
  constructor(
    readonly host: string,
    private readonly script: Script,
    private readonly log: LogEntry[],
  ) {}
  async connect(): Promise<void> {}
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.log.push({ host: this.host, kind: 'exec', text: command, ...(options.become ? { become: true } : {}) });
    const answer = await this.script(command, this.host, options);
    return { exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...answer };
  }
  async upload(source: { path: string } | { content: string | Buffer }, remotePath: string): Promise<TransferResult> {
    this.log.push({ host: this.host, kind: 'upload', text: remotePath });
    const content = 'content' in source ? source.content : '';
    const { createHash } = await import('node:crypto');
    return { bytes: Buffer.byteLength(content), sha256: createHash('sha256').update(content).digest('hex') };
  }
  async download(remotePath: string): Promise<TransferResult> {
    this.log.push({ host: this.host, kind: 'download', text: remotePath });
    return { bytes: 0, sha256: '' };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Runs commands with the local /bin/sh, to see what a real shell makes of them. */
export class ShellTransport extends FakeTransport {
  override async exec(command: string): Promise<ExecResult> {
    return new Promise((resolve) => {
      execFile('/bin/sh', ['-c', command], { timeout: 10_000 }, (error, stdout, stderr) => {
        // A failed command's error carries its exit status; a spawn failure carries a string code (ENOENT).
        const code: unknown = error ? error.code : 0;
        resolve({ exitCode: typeof code === 'number' ? code : 1, stdout, stderr, durationMs: 1 });
      });
    });
  }
}

export interface FakeNetwork {
  openTransports: OpenTransportsFn;
  log: LogEntry[];
  /** Each call of openTransports: the hosts asked for. */
  opened: string[][];
  transports: Map<string, FakeTransport>;
  commandsOn(host: string): string[];
}

export function fakeNetwork(script: Script = () => undefined, options: { unreachable?: string[]; shell?: boolean } = {}): FakeNetwork {
  const log: LogEntry[] = [];
  const opened: string[][] = [];
  const transports = new Map<string, FakeTransport>();
  return {
    log,
    opened,
    transports,
    commandsOn: (host) => log.filter((e) => e.host === host && e.kind === 'exec').map((e) => e.text),
    openTransports: async (specs) => {
      opened.push(specs.map((s) => s.host));
      const result = new Map<string, Transport | UnreachableError>();
      for (const spec of specs) {
        if (options.unreachable?.includes(spec.host)) {
          result.set(spec.host, new UnreachableError(spec.host, 'cannot connect: connect ECONNREFUSED', 'check that sshd runs'));
          continue;
        }
        const transport = options.shell ? new ShellTransport(spec.host, script, log) : new FakeTransport(spec.host, script, log);
        transports.set(spec.host, transport);
        result.set(spec.host, transport);
      }
      return result;
    },
  };
}

export class RecordingReporter implements Reporter {
  events: RunEvent[] = [];
  event(event: RunEvent): void {
    this.events.push(event);
  }
  async close(): Promise<void> {}
  of<T extends RunEvent['type']>(type: T): Extract<RunEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  }
}

/** Write an inventory and a playbook to a temporary folder; returns their paths. */
export function files(inventory: string, playbook: string, extra: Record<string, string> = {}): { inventory: string; playbook: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'engine-test-'));
  writeFileSync(join(dir, 'inventory.yml'), inventory);
  writeFileSync(join(dir, 'playbook.yml'), playbook);
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return { inventory: join(dir, 'inventory.yml'), playbook: join(dir, 'playbook.yml'), dir };
}

export const threeHosts = `
all:
  vars:
    ansible_user: root
    where: inventory-all
  children:
    etcd:
      vars:
        where: inventory-group
      hosts:
        10.0.0.1:
          where: inventory-host
        10.0.0.2:
        10.0.0.3:
`;
