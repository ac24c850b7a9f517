// Turns what ssh2 reported during a failed connection into one message naming the host and the cause.
import type { ConnectionSpec } from '../config/types.js';
import { UnreachableError } from '../errors.js';

export type Ssh2Error = Error & { level?: string; code?: string };

export function describeConnectFailure(spec: ConnectionSpec, errors: Ssh2Error[], triedAuth: string[], connectTimeoutMs: number): UnreachableError {
  const host = spec.host;
  const where = `${spec.address}:${spec.port}`;
  // ssh2 may report follow-up errors after the real cause (a reset after its own timeout): rank them.
  const fatal =
    errors.find((error) => error.level === 'client-timeout') ??
    errors.find((error) => error.level === 'client-authentication' && /authentication methods failed/.test(error.message)) ??
    errors.find((error) => error.code !== undefined) ??
    errors.find((error) => error.level !== 'agent') ??
    errors[0];
  if (!fatal) return new UnreachableError(host, `${where} closed the connection during the SSH handshake`);
  if (fatal.level === 'client-authentication') {
    return new UnreachableError(
      host,
      `authentication as ${spec.user}@${where} failed; tried ${triedAuth.length > 0 ? triedAuth.join(', ') : 'nothing'}`,
      `check ansible_user and ansible_ssh_private_key_file, that the public key is in ~${spec.user}/.ssh/authorized_keys on the host, or that ssh-add -l lists it`,
    );
  }
  if (fatal.level === 'client-timeout') {
    return new UnreachableError(
      host,
      `timed out after ${connectTimeoutMs / 1000} s waiting for SSH at ${where}`,
      'the host may be down, a firewall may drop the packets, or ansible_host/ansible_port may be wrong',
    );
  }
  switch (fatal.code) {
    case 'ECONNREFUSED':
      return new UnreachableError(host, `connection refused by ${where}`, 'is sshd running there, and is ansible_port right?');
    case 'ETIMEDOUT':
      return new UnreachableError(host, `TCP connection to ${where} timed out`, 'the host may be down or a firewall drops the packets');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new UnreachableError(host, `no route to ${where}`, 'check ansible_host and the network');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UnreachableError(host, `cannot resolve ${spec.address}`, 'check ansible_host and DNS');
    case 'ECONNRESET':
      return new UnreachableError(
        host,
        `${where} reset the connection during the SSH handshake`,
        'sshd may refuse this client (MaxStartups, tcp wrappers, a firewall)',
      );
    default:
      return new UnreachableError(host, `cannot connect to ${where}: ${fatal.message}`);
  }
}
