// The data diff in words, for the restore preview: one line per resource, namespace and effect
// ("25 pods in default will come back", "1 key under /registry/rogue/ will be removed").
import { countedResource } from '../etcd/registry-key.js';
import type { DiffGroup, SnapshotDiff } from './restore-diff.js';

/** Keys and names come from the cluster: control characters are shown escaped, never sent to a terminal. */
export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e\u00a0-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const EFFECTS = [
  ['comeBack', 'will come back'],
  ['disappear', 'will be removed'],
  ['change', "will go back to the snapshot's version"],
] as const;

function subject(group: DiffGroup, count: number): string {
  const words = group.kubernetes ? countedResource(group.resource, count) : undefined;
  if (!words) return `${count} key${count === 1 ? '' : 's'} under ${printable(group.prefix || '(keys without a folder)')}`;
  return group.namespace !== undefined ? `${words} in ${printable(group.namespace)}` : words;
}

/** The lines for one group, in the order come back, removed, changed. */
export function groupLines(group: DiffGroup): string[] {
  return EFFECTS.filter(([field]) => group[field] > 0).map(([field, verb]) => `${subject(group, group[field])} ${verb}`);
}

const MAX_LINES = 40;

export function formatDiff(diff: SnapshotDiff): string {
  const lines: string[] = [];
  lines.push(
    `Data diff: the snapshot at revision ${diff.snapshot.revision} (${diff.snapshot.keys} keys) against the cluster at revision ${diff.live.revision} (${diff.live.keys} keys, read from ${printable(diff.live.member)}):`,
  );
  const { comeBack, disappear, change, same } = diff.totals;
  if (comeBack + disappear + change === 0) {
    lines.push(`  no difference: all ${same} keys are the same`);
    return `${lines.join('\n')}\n`;
  }
  const all = diff.groups.flatMap(groupLines);
  for (const line of all.slice(0, MAX_LINES)) lines.push(`  ${line}`);
  if (all.length > MAX_LINES) lines.push(`  ... and ${all.length - MAX_LINES} more lines (--json has them all)`);
  if (diff.otherGroups.groups > 0) {
    const o = diff.otherGroups;
    lines.push(`  and in ${o.groups} more folders: ${o.comeBack} come back, ${o.disappear} removed, ${o.change} changed`);
  }
  const names = (list: string[], count: number) =>
    `${list.map(printable).join(', ')}${count > list.length ? ` and ${count - list.length} more` : ''}`;
  if (diff.namespaces.vanishCount > 0)
    lines.push(
      `  namespace${diff.namespaces.vanishCount === 1 ? '' : 's'} ${names(diff.namespaces.vanish, diff.namespaces.vanishCount)} will vanish`,
    );
  if (diff.namespaces.reappearCount > 0)
    lines.push(
      `  namespace${diff.namespaces.reappearCount === 1 ? '' : 's'} ${names(diff.namespaces.reappear, diff.namespaces.reappearCount)} will reappear`,
    );
  const lost = diff.newestLost;
  if (lost) {
    const when = lost.modifiedAt ? `, ${lost.timeSource === 'creationTimestamp' ? 'created' : 'last modified'} ${lost.modifiedAt}` : '';
    lines.push(
      `  newest write that will be lost: ${printable(lost.key)} (${lost.effect === 'removed' ? 'removed' : 'changed back'}; written at revision ${lost.modRevision}${when})`,
    );
  }
  lines.push(`  in total: ${comeBack} come back, ${disappear} removed, ${change} changed, ${same} unchanged`);
  return `${lines.join('\n')}\n`;
}
