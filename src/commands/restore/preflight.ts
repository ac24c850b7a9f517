// The preflight phase of a procedure, read: on every host it touches, whether commands run as root (the
// `restore.login-access` task), and on every member the `etcd.preflight` facts (tool, free disk, TLS
// files, old data dir). Every problem on every host is collected, so one run shows all there is to fix.
import type { EtcdMember } from '../../config/types.js';
import type { PhasedRun } from '../../engine/phased.js';
import type { EtcdPreflightResult } from '../../modules/restore/etcd-preflight.js';

export type MemberFacts = EtcdPreflightResult;

export interface PreflightReading {
  facts: Map<string, MemberFacts>;
  /** Each one refuses the procedure; prefixed with the host. */
  problems: string[];
  warnings: string[];
  /** What the identity check derived or could not check. */
  notes: string[];
  /** The live member list the identity check compared against (when the cluster answered). */
  liveMembers?: { name: string; peerUrls: string[] }[];
}

/** Bytes a restore needs beside the data dir: the snapshot (or archive) copy plus the restored data, with a margin. */
export function bytesNeededFor(snapshotBytes: number): number {
  return 2 * snapshotBytes + 64 * 1024 * 1024;
}

/** The identity check's notes and the live member list it saw. */
function readIdentities(run: PhasedRun, reading: PreflightReading): void {
  const registered = run.phases.find((p) => p.id === 'identities')?.results.get('localhost')?.[0]?.result.result;
  if (!registered) return;
  if (Array.isArray(registered.notes)) reading.notes.push(...(registered.notes as string[]));
  if (Array.isArray(registered.live_members))
    reading.liveMembers = (registered.live_members as { name: string; peerUrls: string[] }[]).map((m) => ({ name: m.name, peerUrls: m.peerUrls }));
  if (Array.isArray(registered.problems)) reading.problems.push(...(registered.problems as string[]));
}

/** How hosts are named in these lines: `etcd1 (10.0.0.1)` for a member, the host alone otherwise. */
export function hostLabels(members: readonly { name: string; host: string }[]): (host: string) => string {
  const labels = new Map(members.map((m) => [m.host, `${m.name} (${m.host})`]));
  return (host) => labels.get(host) ?? host;
}

/** `memberFacts: false` for a preflight without `etcd.preflight` (the rollback's). */
export function readPreflight(
  run: PhasedRun,
  members: readonly EtcdMember[],
  expect: { memberFacts: boolean } = { memberFacts: true },
): PreflightReading {
  const reading: PreflightReading = { facts: new Map(), problems: [], warnings: [], notes: [] };
  readIdentities(run, reading);
  const phase = run.phases.find((p) => p.id === 'preflight');
  const labelOf = hostLabels(members);
  if (!phase) {
    reading.problems.push('the procedure has no preflight phase');
    return reading;
  }
  for (const [host, failure] of phase.failures) {
    if (!phase.results.get(host)?.length) reading.problems.push(`${labelOf(host)}: ${failure}`);
  }
  for (const [host, outcomes] of phase.results) {
    const who = labelOf(host);
    for (const { ref, result } of outcomes) {
      const registered = result.result;
      const listed = Array.isArray(registered.problems) ? (registered.problems as string[]) : undefined;
      if (ref.module === 'etcd.preflight' && result.status !== 'skipped' && Array.isArray(registered.certificates)) {
        reading.facts.set(host, registered as unknown as MemberFacts);
        for (const warning of (registered.warnings as string[] | undefined) ?? []) reading.warnings.push(`${who}: ${warning}`);
      }
      if (listed && listed.length > 0) reading.problems.push(...listed.map((problem) => `${who}: ${problem}`));
      else if (result.status === 'failed' || result.status === 'unreachable') reading.problems.push(`${who}: ${ref.task}: ${result.msg}`);
    }
  }
  for (const member of expect.memberFacts ? members : []) {
    if (!reading.facts.has(member.host) && !reading.problems.some((p) => p.startsWith(`${labelOf(member.host)}:`))) {
      reading.problems.push(`${labelOf(member.host)}: ${phase.failures.get(member.host) ?? 'the checks did not run'}`);
    }
  }
  return reading;
}
