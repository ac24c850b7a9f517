// Where every file of a lab lives, and the addresses of its hosts. Pure: nothing here touches the disk.
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export const defaultLabNet = '127.0.100';
export const defaultLabMembers = 3;
export const maxLabMembers = 7;
export const labSshPort = 22;
export const labDeployUser = 'deploy';

export interface LabPaths {
  dir: string;
  /** lab.json: what `status` and `down` need (pids, namespaces, files). */
  stateFile: string;
  /** A directory used as a lock so two `lab` commands never work on one lab at once. */
  lockDir: string;
  inventoryFile: string;
  /** Host entries for ssh -F (ProxyJump through the bastion when there is one). */
  sshConfigFile: string;
  /** known_hosts with only this lab's host keys. */
  knownHostsFile: string;
  sshDir: string;
  keyFile: string;
  publicKeyFile: string;
  authorizedKeysFile: string;
  pkiDir: string;
  caFile: string;
  caKeyFile: string;
  /** The one etcd server/peer certificate of every member (kubeasz style); also valid as a client certificate. */
  certFile: string;
  certKeyFile: string;
  /** A client-only certificate for the deploy host. */
  clientCertFile: string;
  clientKeyFile: string;
  hostsDir: string;
  logsDir: string;
}

export interface LabHostPaths {
  address: string;
  root: string;
  upperDir: string;
  workDir: string;
  mergedDir: string;
  /** stdout/stderr of the holder process (sshd -D -e). */
  sshdLog: string;
}

/**
 * Resolve and check the lab folder. Its path ends up in overlay mount options (`,` and `:` are separators
 * there) and in sshd_config (blanks, `%` tokens, quotes), so such characters are refused.
 */
export function resolveLabDir(dir: string): string {
  const absolute = isAbsolute(dir) ? resolve(dir) : resolve(process.cwd(), dir);
  if (absolute === '/') throw new UsageError('the lab folder cannot be /', 'pass --dir with a folder of its own, e.g. --dir ./lab');
  if (/[,:%\s"'\\]/.test(absolute)) {
    throw new UsageError(
      `the lab folder "${absolute}" contains a character the lab cannot use (, : % quotes, backslash or blanks)`,
      'choose a folder path made of letters, digits, "/", ".", "_" and "-"',
    );
  }
  return absolute;
}

export function labPaths(dir: string): LabPaths {
  const sshDir = join(dir, 'ssh');
  const pkiDir = join(dir, 'pki');
  return {
    dir,
    stateFile: join(dir, 'lab.json'),
    lockDir: join(dir, '.lab.lock'),
    inventoryFile: join(dir, 'inventory.yml'),
    sshConfigFile: join(dir, 'ssh_config'),
    knownHostsFile: join(dir, 'known_hosts'),
    sshDir,
    keyFile: join(sshDir, 'id_ed25519'),
    publicKeyFile: join(sshDir, 'id_ed25519.pub'),
    authorizedKeysFile: join(sshDir, 'authorized_keys'),
    pkiDir,
    caFile: join(pkiDir, 'ca.pem'),
    caKeyFile: join(pkiDir, 'ca-key.pem'),
    certFile: join(pkiDir, 'etcd.pem'),
    certKeyFile: join(pkiDir, 'etcd-key.pem'),
    clientCertFile: join(pkiDir, 'client.pem'),
    clientKeyFile: join(pkiDir, 'client-key.pem'),
    hostsDir: join(dir, 'hosts'),
    logsDir: join(dir, 'logs'),
  };
}

export function labHostPaths(paths: LabPaths, address: string): LabHostPaths {
  const root = join(paths.hostsDir, address);
  return {
    address,
    root,
    upperDir: join(root, 'upper'),
    workDir: join(root, 'work'),
    mergedDir: join(root, 'merged'),
    sshdLog: join(paths.logsDir, `${address}-sshd.log`),
  };
}

/** The first three octets of a loopback network, e.g. `127.0.100`; anything outside 127.0.0.0/8 is refused. */
export function parseLabNet(net: string): string {
  const trimmed = net.trim().replace(/\.$/, '');
  const octets = trimmed.split('.');
  const valid =
    octets.length === 3 && octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255) && octets[0] === '127';
  if (!valid) {
    throw new UsageError(
      `--net must be the first three octets of a loopback network inside 127.0.0.0/8, got "${net}"`,
      'for example --net 127.0.100 (hosts become 127.0.100.1, 127.0.100.2, ...)',
    );
  }
  if (octets.slice(1).join('.') === '0.0') {
    throw new UsageError('--net 127.0.0 would put lab hosts next to 127.0.0.1, which the deploy host uses', 'choose another network, e.g. --net 127.0.100');
  }
  return octets.map(Number).join('.');
}

export function parseMemberCount(text: string | number): number {
  const count = typeof text === 'number' ? text : Number(text);
  if (!Number.isInteger(count) || count < 1 || count > maxLabMembers) {
    throw new UsageError(`--members must be a whole number from 1 to ${maxLabMembers}, got "${text}"`, 'for example --members 3');
  }
  return count;
}

/** Host i (1-based) has address `<net>.<i>`; the inventory hostname is that address, as in kubeasz. */
export function labAddresses(net: string, members: number): string[] {
  return Array.from({ length: members }, (_, index) => `${net}.${index + 1}`);
}

export function etcdMemberName(address: string): string {
  return `etcd-${address}`;
}
