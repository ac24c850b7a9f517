// The raw byte copy of transfers over SSH: one sftp session per connection, opened on first use and kept.
// It holds one of the connection's channel slots while open and gives it up when unused and asked.
import type { Client as SshClient, SFTPWrapper } from 'ssh2';
import { TaskFailedError, type UnreachableError } from '../errors.js';
import type { ChannelLimiter } from './channel-limiter.js';
import type { UploadSource } from './shell-transfer.js';

export interface SftpLink {
  readonly host: string;
  readonly channels: ChannelLimiter;
  /** The connected client; throws when there is none. */
  client(): SshClient;
  lostReason(): UnreachableError | undefined;
  /** A transfer finished: idle channels may be handed to waiting ones. */
  afterUse(): void;
}

/**
 * Fewer, larger sftp requests, with the same 2 MiB in flight per transfer as ssh2's default (32 KiB x 64).
 * Node's one thread frames, encrypts and writes every byte, so the copy is CPU-bound here; per-request
 * work is what larger requests save. Measured on the lab, 2 GiB to 3 members at once: 20.4 s and 17.5 s
 * of CPU at 255 KiB x 8, 26.4 s / 22.6 s at 128 KiB x 16, 22.7 s / 20.6 s with the default; scp 21.7 s.
 * 254 KiB is the largest write ssh2 sends OpenSSH in one request (its own cap); a server allowing less gets it split.
 * Files of 64 MiB or more usually go through the ssh client instead (openssh-copy.ts).
 */
const transferOptions = { chunkSize: 254 * 1024, concurrency: 8 } as const;

export class SftpSession {
  private session?: Promise<SFTPWrapper>;
  /** Transfers using the session now. */
  private users = 0;

  constructor(private readonly link: SftpLink) {}

  /** Copies bytes to a new far-side file (mode 0600). */
  async put(source: UploadSource, farPath: string): Promise<void> {
    await this.use(
      (sftp) =>
        new Promise<void>((resolve, reject) => {
          const done = (error?: Error | null): void => {
            if (error) reject(this.transferError(`cannot write ${farPath}`, error));
            else resolve();
          };
          if ('path' in source) sftp.fastPut(source.path, farPath, { ...transferOptions, mode: 0o600 }, done);
          else sftp.writeFile(farPath, source.content, { mode: 0o600 }, done);
        }),
    );
  }

  /** Copies a far-side file to a new local file (mode 0600). */
  async get(farPath: string, localPath: string): Promise<void> {
    await this.use(
      (sftp) =>
        new Promise<void>((resolve, reject) => {
          sftp.fastGet(farPath, localPath, { ...transferOptions, mode: 0o600 }, (error?: Error | null) => {
            if (error) reject(this.transferError(`cannot read ${farPath}`, error));
            else resolve();
          });
        }),
    );
  }

  /** Another channel waits for a slot: an unused session closes (a transfer starting later opens a new one). */
  releaseIfIdle(): void {
    const session = this.session;
    if (!session || this.users > 0) return;
    this.session = undefined;
    void session.then(
      (sftp) => {
        sftp.end();
      },
      () => undefined,
    );
  }

  /** The connection is gone, and the session with it. */
  forget(): void {
    this.session = undefined;
  }

  private async use<T>(work: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    this.users += 1;
    try {
      return await work(await this.open());
    } finally {
      this.users -= 1;
      this.link.afterUse();
    }
  }

  private transferError(what: string, error: Error): Error {
    return this.link.lostReason() ?? new TaskFailedError(`${this.link.host}: ${what}: ${error.message}`, undefined, 'transfer.failed');
  }

  private open(): Promise<SFTPWrapper> {
    if (this.session) return this.session;
    const opened: { session?: Promise<SFTPWrapper> } = {};
    const forgetThis = (): void => {
      if (this.session === opened.session) this.session = undefined;
    };
    opened.session = this.start(forgetThis);
    this.session = opened.session;
    return opened.session;
  }

  private async start(forgetThis: () => void): Promise<SFTPWrapper> {
    const client = this.link.client();
    const release = await this.link.channels.acquire();
    return new Promise<SFTPWrapper>((resolve, reject) => {
      client.sftp((error, sftp) => {
        if (error) {
          release();
          forgetThis();
          reject(
            this.link.lostReason() ??
              new TaskFailedError(
                `${this.link.host}: cannot start sftp: ${error.message}`,
                'is the sftp subsystem enabled in sshd_config?',
                'transfer.failed',
              ),
          );
          return;
        }
        sftp.on('close', () => {
          release();
          forgetThis();
        });
        resolve(sftp);
      });
    });
  }
}
