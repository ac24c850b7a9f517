// `lab power-cut`: the demo's power cut. Writes an order after the last backup (a key no snapshot holds),
// then kills every etcd member with SIGKILL: no shutdown, data dirs left exactly as the crash leaves them.
// kubeasz topology only (the lab's systemd stand-in keeps each etcd's pid); kubeadm labs are refused.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clientUrl, etcdctl } from './etcdctl.js';
import { LabError, requireRoot } from './lab-error.js';
import { hostRole, labClientFiles, readLabState } from './lab-state.js';
import { labPaths, resolveLabDir } from './paths.js';

export const labOrderKey = '/registry/orders/written-after-the-backup';

export interface LabPowerCutReport {
  orderKey: string;
  orderValue: string;
  killed: { address: string; pid: number }[];
}

/** The pid the stand-in systemctl recorded for etcd, if that process is still an etcd. */
async function etcdPid(upperDir: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(upperDir, 'var/lib/lab-systemd/etcd.pid'), 'utf8').catch(() => '')).trim());
  if (!(pid > 0)) return undefined;
  // Only a process that is etcd: a pid reused by something else is left alone.
  const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
  return comm === 'etcd' ? pid : undefined;
}

export async function labPowerCut(options: { dir: string }): Promise<LabPowerCutReport> {
  requireRoot('`lab power-cut`');
  const dir = resolveLabDir(options.dir);
  const state = await readLabState(labPaths(dir).stateFile);
  if (!state) throw new LabError(`no lab in ${dir}`, `bring one up with \`orchestrate lab up --dir ${dir}\``, 'lab.missing');
  if ((state.topology ?? 'kubeasz') !== 'kubeasz')
    throw new LabError('`lab power-cut` works on kubeasz-topology labs (etcd as a systemd unit)', 'bring one up with `orchestrate lab up` (no --topology)', 'lab.topology');
  const members = state.hosts.filter((host) => hostRole(host) === 'member');
  const orderValue = `order placed at ${new Date().toISOString()}, after the last backup`;
  const put = await etcdctl(labClientFiles(state), members.map((m) => clientUrl(m.address)), ['put', labOrderKey, orderValue]);
  if (put.code !== 0) throw new LabError(`writing ${labOrderKey} failed: ${put.stderr.trim()}`);
  const killed: LabPowerCutReport['killed'] = [];
  for (const member of members) {
    const pid = await etcdPid(member.upperDir);
    if (pid === undefined) continue;
    process.kill(pid, 'SIGKILL');
    killed.push({ address: member.address, pid });
  }
  return { orderKey: labOrderKey, orderValue, killed };
}

/** `lab get KEY`: one key's value, read with Debian's etcdctl (what the demo shows survived). */
export async function labGet(options: { dir: string; key: string }): Promise<string | undefined> {
  requireRoot('`lab get`');
  const dir = resolveLabDir(options.dir);
  const state = await readLabState(labPaths(dir).stateFile);
  if (!state) throw new LabError(`no lab in ${dir}`, `bring one up with \`orchestrate lab up --dir ${dir}\``, 'lab.missing');
  const members = state.hosts.filter((host) => hostRole(host) === 'member');
  const got = await etcdctl(labClientFiles(state), members.map((m) => clientUrl(m.address)), ['get', options.key, '--print-value-only']);
  if (got.code !== 0) throw new LabError(`reading ${options.key} failed: ${got.stderr.trim()}`);
  const value = got.stdout.replace(/\n$/, '');
  return value === '' ? undefined : value;
}
