// Which tasks run (--tags / --skip-tags) and how a play's hosts are cut into serial batches.
import type { Task } from '../config/types.js';

export interface TagFilter {
  tags?: string[];
  skipTags?: string[];
}

/** Ansible's rules: `always` runs unless skipped by name, `never` only when asked for by name. */
export function taskSelected(task: Task, filter: TagFilter): boolean {
  const taskTags = task.tags ?? [];
  const wanted = (filter.tags ?? []).filter((t) => t !== '');
  const skipped = (filter.skipTags ?? []).filter((t) => t !== '');
  if (taskTags.some((t) => skipped.includes(t))) return false;
  if (skipped.includes('tagged') && taskTags.length > 0) return false;
  if (skipped.includes('untagged') && taskTags.length === 0) return false;
  const named = taskTags.some((t) => wanted.includes(t));
  if (taskTags.includes('never') && !named) return false;
  if (wanted.length === 0 || wanted.includes('all')) return true;
  if (named || taskTags.includes('always')) return true;
  if (wanted.includes('tagged') && taskTags.length > 0) return true;
  if (wanted.includes('untagged') && taskTags.length === 0) return true;
  return false;
}

/** `serial: 2` or `serial: "30%"`: consecutive batches; no serial is one batch. */
export function serialBatches(hosts: string[], serial: number | string | undefined): string[][] {
  if (serial === undefined || hosts.length === 0) return [hosts];
  let size: number;
  if (typeof serial === 'number') size = serial;
  else {
    const text = serial.trim();
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
    size = percent ? Math.floor((hosts.length * Number(percent[1])) / 100) : Number(text);
  }
  if (!Number.isFinite(size) || size <= 0) size = percentFloor(size);
  const batches: string[][] = [];
  for (let i = 0; i < hosts.length; i += size) batches.push(hosts.slice(i, i + size));
  return batches;
}

/** Ansible runs at least one host per batch. */
function percentFloor(size: number): number {
  return Number.isFinite(size) && size > 0 ? size : 1;
}
