// The TCP connection to a host starts before ssh2 is loaded and the keys are read. Why: sshd takes tens
// of milliseconds to answer a new connection (it forks and re-executes itself), and that wait then
// overlaps our own start-up instead of following it (3 hosts: ~170 -> ~100 ms to all sessions ready).
import { connect, type Socket } from 'node:net';

export class EarlySocket {
  private readonly socket: Socket;
  private failed = false;

  constructor(address: string, port: number) {
    this.socket = connect({ host: address, port });
    this.socket.setNoDelay(true); // commands are small request/response exchanges: do not wait for Nagle
    // Nothing reads yet: the server's first bytes wait in the socket until ssh2 takes it over.
    this.socket.once('error', () => {
      this.failed = true;
    });
    this.socket.once('close', () => {
      this.failed = true;
    });
  }

  /**
   * The socket for ssh2's `sock` option; undefined when it has already failed or closed, so that ssh2
   * connects by itself and reports the cause the usual way.
   */
  take(): Socket | undefined {
    if (!this.failed) return this.socket;
    this.socket.destroy();
    return undefined;
  }

  /** Not needed after all (the connection was given up before the handshake). */
  discard(): void {
    this.socket.destroy();
  }
}
