// The contract between a started command (on a channel of its own or on the host's shell) and the run
// that waits for it: where its output and end go, and what a timeout or an abort kills.

/** Where a command's output and end go, whichever way it was started. */
export interface CommandSink {
  /** The command runs: a kill goes to this target from now on. */
  started(target: KillTarget): void;
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  exited(code: number | null, signal?: string): void;
  ended(): void;
  failed(error: unknown): void;
}

export interface KillTarget {
  /** Process group to kill; undefined when the session printed something else first. */
  pid: Promise<number | undefined>;
  /** Give up on the command without waiting for it any longer. */
  abandon(): void;
  /** Called before the kill is sent. */
  stopping?(): void;
}

/** Starts a command; everything it reports goes to the sink. */
export type CommandStarter = (sink: CommandSink) => void;
