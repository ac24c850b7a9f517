// The etcd versions a lab can run, and where each one's binaries come from.
// 3.4: Debian 12's etcd-server/etcd-client in /usr/bin (no etcdutl).
// 3.5: Debian 13's packages unpacked by scripts/lab-etcd35.sh into a folder of the lab's own; a 3.5 host
// puts them first in PATH (its /usr/local/bin) and in /usr/bin, so every way of calling etcd finds 3.5.
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { LabError } from './lab-error.js';

export const labEtcdVersions = ['3.4', '3.5'] as const;
export type LabEtcdVersion = (typeof labEtcdVersions)[number];
export const defaultLabEtcdVersion: LabEtcdVersion = '3.4';

/** Where scripts/lab-etcd35.sh unpacks etcd 3.5 (override: ORCHESTRATE_LAB_ETCD35_DIR, read by both). */
export function etcd35Dir(): string {
  return process.env.ORCHESTRATE_LAB_ETCD35_DIR ?? '/opt/orchestrate-lab/etcd-3.5';
}

export const etcdProgramNames = ['etcd', 'etcdctl', 'etcdutl'] as const;

export interface EtcdBinaries {
  version: LabEtcdVersion;
  /** Absolute paths of the binaries on the deploy host (the lower layer every lab host sees). */
  etcd: string;
  etcdctl: string;
  /** 3.5 only. */
  etcdutl?: string;
  /** Where the host's own etcd unit runs etcd from. */
  unitEtcdPath: string;
  /** Links `path in host -> binary` written into a host's upper layer (none for 3.4: Debian's own /usr/bin). */
  hostLinks: { path: string; target: string }[];
}

export function parseLabEtcdVersion(text: string): LabEtcdVersion {
  const found = labEtcdVersions.find((version) => version === text.trim());
  if (!found) throw new UsageError(`--etcd must be one of ${labEtcdVersions.join(', ')}, got "${text}"`, 'for example --etcd 3.5');
  return found;
}

export function etcdBinaries(version: LabEtcdVersion): EtcdBinaries {
  if (version === '3.4') {
    return { version, etcd: '/usr/bin/etcd', etcdctl: '/usr/bin/etcdctl', unitEtcdPath: '/usr/bin/etcd', hostLinks: [] };
  }
  const bin = join(etcd35Dir(), 'usr', 'bin');
  // Symbolic links, not copies or hard links: a test that overwrites a host's etcdctl writes through the
  // link into that host's copy-on-write layer, never into the shared binary.
  const hostLinks = etcdProgramNames.flatMap((name) => [
    { path: `/usr/local/bin/${name}`, target: join(bin, name) },
    { path: `/usr/bin/${name}`, target: join(bin, name) },
  ]);
  return {
    version,
    etcd: join(bin, 'etcd'),
    etcdctl: join(bin, 'etcdctl'),
    etcdutl: join(bin, 'etcdutl'),
    unitEtcdPath: '/usr/local/bin/etcd',
    hostLinks,
  };
}

/** Refuses, before anything starts, a version whose binaries are not on this machine. */
export async function requireEtcdBinaries(binaries: EtcdBinaries): Promise<void> {
  const paths = [binaries.etcd, binaries.etcdctl, ...(binaries.etcdutl ? [binaries.etcdutl] : [])];
  const missing: string[] = [];
  for (const path of paths) {
    await access(path, constants.X_OK).catch(() => missing.push(path));
  }
  if (missing.length === 0) return;
  const fix =
    binaries.version === '3.5'
      ? 'run `sh scripts/setup.sh` as root: it fetches Debian 13\'s etcd-server and etcd-client 3.5 into ' + etcd35Dir()
      : 'install Debian\'s etcd-server and etcd-client: apt-get install -y etcd-server etcd-client';
  throw new LabError(`etcd ${binaries.version} is not installed for the lab: ${missing.join(', ')} missing`, fix, 'lab.etcd-missing');
}
