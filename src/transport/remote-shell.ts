// One long-lived `sh` on an SSH channel that runs commands one after another. Why: every new session
// channel makes sshd fork a session process and start the login shell (~8 ms a command on the lab's 2
// cores for 3 hosts); the shell starts each command with one fork and exec of `sh -c` (~2.5 ms).
// Each command still runs in its own `sh -c` with stdin from /dev/null, so a command's `cd`, `exit`,
// `set -e` or syntax error cannot touch the next one. After it, the shell prints an end marker with a
// fresh random nonce on stdout (with the exit status) and on stderr; see end-marker.ts.
import { randomBytes } from 'node:crypto';
import type { Client as SshClient, ClientChannel } from 'ssh2';
import { EndMarkerScanner } from './end-marker.js';
import { PidLineReader } from './pid-line-reader.js';

/** What a command running on the shell reports to (the transport's run of that command). */
export interface ShellCommandSink {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  exited(code: number | null, signal?: string): void;
  /** The command is over: both end markers arrived, or the shell went away. */
  ended(): void;
}

const recordSeparator = '\x1e';

export class RemoteShell {
  private current?: { stdout: EndMarkerScanner; stderr: EndMarkerScanner; sink: ShellCommandSink; status: number | null };
  private retiredFlag = false;
  private closedFlag = false;
  private shellExit: { code: number | null; signal?: string } = { code: null };

  /** The shell's pid, which is also the process group of everything it runs (sshd makes each session a group). */
  readonly pid: Promise<number | undefined>;
  private readonly pidLine = new PidLineReader((chunk) => this.current?.stdout.push(chunk));

  private constructor(readonly channel: ClientChannel) {
    this.pid = this.pidLine.pid;
  }

  /**
   * Starts the shell; resolves once it has printed its pid. Rejects when the channel cannot be opened
   * or the login shell printed something else first: the caller then runs commands one channel each.
   */
  static open(client: SshClient, onClose: (shell: RemoteShell) => void): Promise<RemoteShell> {
    return new Promise((resolve, reject) => {
      client.exec('echo $$; exec sh', (error, channel) => {
        if (error) {
          reject(error);
          return;
        }
        const opened = new RemoteShell(channel);
        channel.on('data', (chunk: Buffer) => opened.pidLine.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => opened.current?.stderr.push(chunk));
        channel.on('exit', (code: number | null, signalName?: string) => {
          opened.shellExit = typeof code === 'number' ? { code } : signalName ? { code: null, signal: signalName } : { code: null };
        });
        channel.on('error', () => undefined); // followed by close
        channel.on('close', () => {
          opened.closedFlag = true;
          opened.pidLine.flush();
          opened.abandonCurrent();
          onClose(opened);
        });
        void opened.pid.then((pid) => {
          if (pid !== undefined) {
            resolve(opened);
            return;
          }
          opened.retire();
          reject(new Error('the login shell printed something before the pid'));
        });
      });
    });
  }

  get idle(): boolean {
    return !this.current && !this.retiredFlag && !this.closedFlag;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Takes no new command; the shell exits (end of its input) once the current one is over. */
  retire(): void {
    if (this.retiredFlag) return;
    this.retiredFlag = true;
    if (!this.closedFlag) this.channel.end();
  }

  /** Runs `line` (a complete command such as `sh -c '...'`, already quoted). Only when `idle`. */
  run(line: string, sink: ShellCommandSink): void {
    if (!this.idle) throw new Error('the remote shell is busy or closed');
    const nonce = randomBytes(12).toString('hex');
    const marker = Buffer.from(`${recordSeparator}${nonce}`, 'latin1');
    const command = { sink, status: null as number | null } as NonNullable<RemoteShell['current']>;
    const bothEnded = (): void => {
      if (!command.stdout.ended || !command.stderr.ended || this.current !== command) return;
      this.current = undefined;
      sink.exited(command.status);
      sink.ended();
    };
    command.stdout = new EndMarkerScanner(
      marker,
      (chunk) => sink.stdout(chunk),
      (suffix) => {
        const status = /^ ([0-9]{1,3})$/.exec(suffix);
        command.status = status ? Number(status[1]) : null;
        bothEnded();
      },
    );
    command.stderr = new EndMarkerScanner(marker, (chunk) => sink.stderr(chunk), bothEnded);
    this.current = command;
    this.channel.write(`${line} </dev/null; printf '\\036%s %d\\n' ${nonce} "$?"; printf '\\036%s\\n' ${nonce} >&2\n`);
  }

  /** The shell is gone in the middle of a command: that command ends with the shell's own exit. */
  private abandonCurrent(): void {
    const command = this.current;
    if (!command) return;
    this.current = undefined;
    command.stdout.flush();
    command.stderr.flush();
    sinkShellExit(command.sink, this.shellExit);
    command.sink.ended();
  }
}

function sinkShellExit(sink: ShellCommandSink, exit: { code: number | null; signal?: string }): void {
  // The shell's own status is not the command's: a killed shell tells how the command was stopped.
  if (exit.signal) sink.exited(null, exit.signal);
  else sink.exited(null);
}
