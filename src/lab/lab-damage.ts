// `lab damage`: the demo's "data loss": deletes every pod under /registry/pods/ and writes a rogue key,
// so a restore has something visible to undo.
import { clientUrl, etcdctl } from './etcdctl.js';
import { LabError, requireRoot } from './lab-error.js';
import { hostRole, labClientFiles, readLabState } from './lab-state.js';
import { labPaths, resolveLabDir } from './paths.js';

export const labRogueKey = '/registry/rogue/oops';

export interface LabDamageReport {
  deletedKeys: number;
  rogueKey: string;
}

export async function labDamage(options: { dir: string }): Promise<LabDamageReport> {
  requireRoot('`lab damage`');
  const dir = resolveLabDir(options.dir);
  const paths = labPaths(dir);
  const state = await readLabState(paths.stateFile);
  const first = state?.hosts[0];
  if (!state || !first) throw new LabError(`no lab in ${dir}`, `bring one up with \`orchestrate lab up --dir ${dir}\``, 'lab.missing');
  const files = labClientFiles(state);
  const endpoints = state.hosts.filter((host) => hostRole(host) === 'member').map((host) => clientUrl(host.address));
  const deleted = await etcdctl(files, endpoints, ['del', '--prefix', '/registry/pods/']);
  if (deleted.code !== 0) throw new LabError(`deleting /registry/pods/ failed: ${deleted.stderr.trim()}`);
  const rogue = await etcdctl(files, endpoints, ['put', labRogueKey, 'written by `orchestrate lab damage`']);
  if (rogue.code !== 0) throw new LabError(`writing ${labRogueKey} failed: ${rogue.stderr.trim()}`);
  return { deletedKeys: Number(deleted.stdout.trim()) || 0, rogueKey: labRogueKey };
}
