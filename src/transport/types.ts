// The one small interface every connector implements (ssh2, local via execa, and fakes in unit tests).

export interface ExecOptions {
  /** Kill the command (and fail) after this long. */
  timeoutMs?: number;
  /** Run through `sudo -n` when the login user is not root. */
  become?: boolean;
  stdin?: string | Buffer;
  signal?: AbortSignal;
}

export interface ExecResult {
  /** null when the command ended by a signal or the channel closed without a status. */
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut?: boolean;
}

export interface TransferOptions {
  /** File mode of the written file; the default for anything under a backup directory is 0o600. */
  mode: number;
  become?: boolean;
  /**
   * sha256 of the upload source when the caller already knows it (e.g. a snapshot verified before the
   * restore): the far side is checked against it, and the source is not hashed again for every host.
   */
  sha256?: string;
}

export interface TransferResult {
  bytes: number;
  /** sha256 of what was written, checked against the source before returning. */
  sha256: string;
}

export interface Transport {
  /** Inventory hostname this transport reaches. */
  readonly host: string;
  connect(): Promise<void>;
  /** Run one command line (already quoted with shellQuote) through the remote user's shell. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Write a local file or an in-memory content to a remote path atomically, verified by sha256. */
  upload(source: { path: string } | { content: string | Buffer }, remotePath: string, options: TransferOptions): Promise<TransferResult>;
  /** Copy a remote file to a local path atomically (temporary name, fsync, rename), verified by sha256. */
  download(remotePath: string, localPath: string, options: TransferOptions): Promise<TransferResult>;
  close(): Promise<void>;
}
