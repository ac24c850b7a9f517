// Turns what ssh2 reported during a failed connection into one message naming the host and the cause.
import { UnreachableError } from '../errors.js';

export type Ssh2Error = Error & { level?: string; code?: string };

/** The far end of one SSH connection, as messages name it. */
export interface ConnectEndpoint {
  /** The inventory host, or `jump host NAME` for a bastion. */
  host: string;
  address: string;
  port: number;
  user: string;
  /** A jump host's settings come from ProxyJump and ssh_config, not from the inventory's ansible_* variables. */
  jump?: boolean;
}

function pickFatal(errors: Ssh2Error[]): Ssh2Error | undefined {
  // ssh2 may report follow-up errors after the real cause (a reset after its own timeout): rank them.
  return (
    errors.find((error) => error.level === 'client-timeout') ??
    errors.find((error) => error.level === 'client-authentication' && error.message.includes('authentication methods failed')) ??
    errors.find((error) => error.code !== undefined) ??
    errors.find((error) => error.level !== 'agent') ??
    errors[0]
  );
}

export function describeConnectFailure(
  endpoint: ConnectEndpoint,
  errors: Ssh2Error[],
  triedAuth: string[],
  connectTimeoutMs: number,
  skippedKeys: string[] = [],
): UnreachableError {
  const { host } = endpoint;
  const where = `${endpoint.address}:${endpoint.port}`;
  const fatal = pickFatal(errors);
  if (!fatal) return new UnreachableError(host, `${where} closed the connection during the SSH handshake`);
  if (fatal.level === 'client-authentication') return authenticationFailure(endpoint, triedAuth, skippedKeys);
  const names = endpoint.jump ? 'the jump host in ProxyJump (or its HostName/Port in ssh_config)' : 'ansible_host/ansible_port';
  if (fatal.level === 'client-timeout') {
    return new UnreachableError(
      host,
      `timed out after ${connectTimeoutMs / 1000} s waiting for SSH at ${where}`,
      `the host may be down, a firewall may drop the packets, or ${names} may be wrong`,
    );
  }
  return networkFailure(endpoint, fatal, names);
}

function authenticationFailure(endpoint: ConnectEndpoint, triedAuth: string[], skippedKeys: string[]): UnreachableError {
  const tried = triedAuth.length > 0 ? triedAuth.join(', ') : 'nothing';
  const skipped = skippedKeys.length > 0 ? `; skipped the passphrase-protected ${skippedKeys.join(', ')} (ssh-agent does not hold it)` : '';
  const settings = endpoint.jump ? 'the User and IdentityFile of the jump host in ssh_config' : 'ansible_user and ansible_ssh_private_key_file';
  const loadKeys = skippedKeys.length > 0 ? `load the key into ssh-agent (ssh-add ${skippedKeys.join(' ')}) with SSH_AUTH_SOCK set, or ` : '';
  return new UnreachableError(
    endpoint.host,
    `authentication as ${endpoint.user}@${endpoint.address}:${endpoint.port} failed; tried ${tried}${skipped}`,
    `${loadKeys}check ${settings}, that the public key is in ~${endpoint.user}/.ssh/authorized_keys on the host, or that ssh-add -l lists it`,
  );
}

function networkFailure(endpoint: ConnectEndpoint, fatal: Ssh2Error, names: string): UnreachableError {
  const { host } = endpoint;
  const where = `${endpoint.address}:${endpoint.port}`;
  switch (fatal.code) {
    case 'ECONNREFUSED':
      return new UnreachableError(host, `connection refused by ${where}`, `is sshd running there, and is ${names} right?`);
    case 'ETIMEDOUT':
      return new UnreachableError(host, `TCP connection to ${where} timed out`, 'the host may be down or a firewall drops the packets');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new UnreachableError(host, `no route to ${where}`, `check ${names} and the network`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UnreachableError(host, `cannot resolve ${endpoint.address}`, `check ${names} and DNS`);
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
