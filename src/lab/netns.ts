// The network namespace a bastion lab keeps its hosts in. Only loopback lives there (127.0.0.0/8 on its
// own `lo`): no interface, no route leads out of it, so nothing in it can reach or be reached from
// anywhere but through the bastion, which has one foot in it.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { LabError } from './lab-error.js';
import { runChecked, runProgram } from './run-program.js';

export function labNetnsName(labDir: string): string {
  return `orchestrate-lab-${createHash('sha256').update(labDir).digest('hex').slice(0, 10)}`;
}

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

export async function netnsExists(name: string): Promise<boolean> {
  return (await stat(netnsPath(name)).catch(() => undefined)) !== undefined;
}

/** `ip netns add NAME` with its loopback up; refuses a name that exists (a lab that was not taken down). */
export async function createLabNetns(name: string): Promise<void> {
  if (await netnsExists(name)) {
    throw new LabError(
      `network namespace ${name} already exists`,
      `a lab in this folder was not taken down: run \`orchestrate lab down\`, or \`ip netns delete ${name}\` if nothing runs in it`,
      'lab.netns-exists',
    );
  }
  await runChecked('ip', ['netns', 'add', name], { timeoutMs: 10_000, what: `creating network namespace ${name}` });
  await runChecked('ip', ['-n', name, 'link', 'set', 'lo', 'up'], { timeoutMs: 10_000, what: `bringing up lo in ${name}` });
}

/** Removes the namespace (a missing one is fine); its processes must be gone first. */
export async function deleteLabNetns(name: string): Promise<boolean> {
  if (!(await netnsExists(name))) return false;
  const result = await runProgram('ip', ['netns', 'delete', name], { timeoutMs: 10_000 });
  if (result.code !== 0) throw new LabError(`removing network namespace ${name}: ${result.stderr.trim()}`, `run \`ip netns delete ${name}\``, 'lab.netns');
  return true;
}
