// Stopping a remote command: OpenSSH refuses the protocol's "signal" request and keeps a closed
// channel's process running, so the command's process group is killed through a second channel.
import type { Client as SshClient } from 'ssh2';
import { wrapWithSudo } from './become.js';
import type { KillTarget } from './command-sink.js';

/** TERM the group, KILL it if still there after 2 s; exits 0 whatever happened. */
export function killGroupScript(pid: number): string {
  const group = `-${pid}`;
  // `kill -s SIG -- -PGID` is the POSIX form; dash rejects `kill -TERM -- -PGID`.
  return (
    `kill -s TERM -- ${group} 2>/dev/null || exit 0; i=0; ` +
    `while [ $i -lt 20 ] && kill -s 0 -- ${group} 2>/dev/null; do sleep 0.1; i=$((i+1)); done; ` +
    `kill -s KILL -- ${group} 2>/dev/null; exit 0`
  );
}

/**
 * Kills the target's process group through a new channel of `client()` (undefined once the connection is
 * gone; the command is then abandoned). On the shell, the group is the shell's: it goes too (retired
 * first, so no next command starts in it).
 */
export function killRemote(client: () => SshClient | undefined, target: KillTarget, sudo: boolean): void {
  target.stopping?.();
  void target.pid.then((pid) => {
    const usable = client();
    if (pid === undefined || !usable) {
      target.abandon();
      return;
    }
    const script = killGroupScript(pid);
    // Outside the channel limiter: the slot it would wait for is the one being freed.
    try {
      usable.exec(sudo ? wrapWithSudo(script) : script, (error, killer) => {
        if (error) {
          target.abandon();
          return;
        }
        killer.resume();
        killer.stderr.resume();
        killer.end();
      });
    } catch {
      target.abandon(); // the connection is going away; its loss settles the command
    }
  });
}
