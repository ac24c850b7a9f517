// The two ways a command starts on an SSH connection: on a session channel of its own, or on the host's
// long-lived shell (remote-shell.ts). Both report to the same CommandSink.
import type { Client as SshClient } from 'ssh2';
import { TaskFailedError, type UnreachableError } from '../errors.js';
import type { CommandStarter } from './command-sink.js';
import { PidLineReader } from './pid-line-reader.js';
import type { RemoteShell } from './remote-shell.js';

/** The server refused to open another session channel (MaxSessions). */
export class ChannelOpenRefusedError extends TaskFailedError {
  constructor(host: string, detail: string) {
    super(`${host}: the server refused a new session: ${detail}`, 'sshd limits sessions per connection (MaxSessions)', 'ssh.channel-refused');
  }
}

export interface ChannelCommand {
  host: string;
  client: SshClient;
  /** A complete command line, already quoted. */
  line: string;
  stdin?: string | Buffer;
  /** Why the connection is gone, while it is: a failure to open then means that, not a refusal. */
  lostReason(): UnreachableError | undefined;
}

/**
 * Starts `line` on a session channel of its own as `echo $$; exec LINE`, so the first stdout line is the
 * pid (and process group) a kill goes to.
 */
export function startOnChannel(command: ChannelCommand): CommandStarter {
  return (sink) => {
    command.client.exec(`echo $$; exec ${command.line}`, (error, opened) => {
      if (error) {
        const lost = command.lostReason();
        if (lost) sink.failed(lost);
        else if (error.message.startsWith('(SSH) Channel open failure')) sink.failed(new ChannelOpenRefusedError(command.host, error.message));
        else sink.failed(new TaskFailedError(`${command.host}: cannot start the command: ${error.message}`));
        return;
      }
      const pidLine = new PidLineReader((chunk) => {
        sink.stdout(chunk);
      });
      opened.on('data', (chunk: Buffer) => {
        pidLine.push(chunk);
      });
      opened.stderr.on('data', (chunk: Buffer) => {
        sink.stderr(chunk);
      });
      opened.on('exit', (code: number | null, signalName?: string) => {
        if (typeof code === 'number') sink.exited(code);
        else if (signalName) sink.exited(null, signalName);
      });
      opened.on('error', () => undefined); // followed by close, which settles
      opened.on('close', () => {
        pidLine.flush();
        sink.ended();
      });
      if (command.stdin !== undefined) opened.end(command.stdin);
      else opened.end();
      sink.started({ pid: pidLine.pid, abandon: () => opened.close() });
    });
  };
}

/** Starts `line` on the host's shell; `ended` runs after the command's end. A command stopped there takes the shell with it. */
export function startOnShell(shell: RemoteShell, line: string, ended: () => void): CommandStarter {
  return (sink) => {
    shell.run(line, {
      stdout: (chunk) => {
        sink.stdout(chunk);
      },
      stderr: (chunk) => {
        sink.stderr(chunk);
      },
      exited: (code, signalName) => {
        sink.exited(code, signalName);
      },
      ended: () => {
        sink.ended();
        ended();
      },
    });
    sink.started({
      pid: shell.pid,
      abandon: () => shell.channel.close(),
      stopping: () => {
        shell.retire();
      },
    });
  };
}
