// A drill's result in words: the verdict first, then the times, the objects per resource, where it was recorded.
import { formatBytes, formatTable } from '../etcd/backup/format.js';
import { printable } from './restore-diff-text.js';
import type { DrillEvent, DrillResult } from './drill-types.js';

export function formatDrillEvent(event: DrillEvent): string {
  return `${(event.atMs / 1000).toFixed(1).padStart(6)}s  ${event.ok ? '' : '! '}${printable(event.message)}\n`;
}

const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);

function verdict(result: DrillResult): string {
  if (result.failure) return `FAILED (${result.failure.stage}): ${printable(result.failure.message)}`;
  const passed = result.checks.length;
  const expectations = result.expectations.length;
  return `PASSED: ${printable(result.snapshot.path)} restores: ${result.members.length} members, one leader, revision ${result.expectedRevision ?? '?'}, ${result.keys?.cluster ?? '?'} keys equal to the snapshot's; ${passed} checks passed${expectations ? ` (${expectations} expectations)` : ''}`;
}

const NAMESPACES_SHOWN = 6;

/** One row per resource: its total, and its namespaces (the largest first, the rest counted). */
export function resourceRows(resources: DrillResult['resources']): string[][] {
  const byResource = new Map<string, DrillResult['resources']>();
  for (const r of resources) byResource.set(r.resource, [...(byResource.get(r.resource) ?? []), r]);
  return [...byResource].map(([resource, rows]) => {
    const total = rows.reduce((sum, r) => sum + r.count, 0);
    const namespaced = rows
      .filter((r) => r.namespace !== undefined)
      .sort((a, b) => b.count - a.count || (a.namespace ?? '').localeCompare(b.namespace ?? ''));
    const shown = namespaced.slice(0, NAMESPACES_SHOWN).map((r) => `${printable(r.namespace ?? '')} ${r.count}`);
    if (namespaced.length > NAMESPACES_SHOWN) shown.push(`and ${namespaced.length - NAMESPACES_SHOWN} more namespaces`);
    return [printable(resource), String(total), namespaced.length ? shown.join(', ') : '(cluster-scoped)'];
  });
}

export function formatDrillResult(result: DrillResult): string {
  const lines: string[] = [verdict(result)];
  const t = result.timings;
  lines.push(
    `  time to quorum ${seconds(t.timeToQuorumMs)}, to the last check ${seconds(t.timeToLastCheckMs)}, whole drill ${seconds(result.durationMs)}`,
  );
  if (result.snapshot.size !== undefined)
    lines.push(
      `  snapshot: ${formatBytes(result.snapshot.size)}, sha256 ${result.snapshot.sha256?.slice(0, 16) ?? '?'}..., taken ${result.snapshot.takenAt ?? '?'}`,
    );
  if (result.tools) lines.push(`  tools: ${result.tools.etcd}; ${result.tools.restore}`, ...result.tools.notes.map((n) => `         ${n}`));
  for (const failed of result.checks.filter((c) => !c.ok)) lines.push(`  FAILED check ${failed.id}: ${printable(failed.detail)}`);
  for (const e of result.expectations.filter((x) => !x.ok))
    lines.push(
      `  MISSING: ${e.expectation.match === 'key' ? `the key ${printable(e.expectation.value)}` : `${printable(e.expectation.value)} has ${e.count} key(s), at least ${e.expectation.min} expected`}`,
    );
  if (result.resources.length) {
    lines.push('  objects in the restored cluster:');
    lines.push(
      ...formatTable(['RESOURCE', 'OBJECTS', 'BY NAMESPACE'], resourceRows(result.resources))
        .trimEnd()
        .split('\n')
        .map((l) => `    ${l}`),
    );
  }
  if (result.leftBehind.pids.length || result.leftBehind.dir)
    lines.push(`  LEFT BEHIND: pids ${result.leftBehind.pids.join(', ') || 'none'}, folder ${result.leftBehind.dir ?? 'none'}`);
  if (result.recorded) {
    lines.push(`  recorded in ${result.recorded.catalogFile}; metrics in ${result.recorded.metricsFile}`);
    if (result.recorded.warning) lines.push(`  warning: ${result.recorded.warning}`);
  }
  return `${lines.join('\n')}\n`;
}
