// The preflight: on every host the restore touches, first whether commands there run with the rights a
// restore needs (root, directly or through become), then `etcd.preflight` on every member; read-only steps
// only (it also runs under --dry-run). Every problem on every host is collected, so one run shows all there
// is to fix; a host whose commands lack the rights skips the member checks (they would only fail as a result).
import type { EtcdMember, Inventory } from '../config/types.js';
import type { EtcdPreflightResult } from '../modules/restore/etcd-preflight.js';
import { etcdPreflightModule } from '../modules/restore/index.js';
import { restorePaths } from '../modules/restore/paths.js';
import type { Transport } from '../transport/types.js';
import { hostLabels, loginAccessAction, loginAccessProblems } from './login-access.js';
import { readOnlyPhaseContext, runPhase } from './run-phases.js';
import type { PlannedAction } from './plan-types.js';

export type MemberFacts = EtcdPreflightResult;

export interface PreflightResult {
  facts: Map<string, MemberFacts>;
  /** Each one refuses the restore; prefixed with the member. */
  problems: string[];
  warnings: string[];
}

export interface PreflightOptions {
  inventory: Inventory;
  members: readonly EtcdMember[];
  /** One per host the restore touches: the members and the kube hosts, whose units it stops and starts. */
  transports: ReadonlyMap<string, Transport>;
  runId: string;
  /** Bytes each member needs beside its data dir; 0 skips the disk check (a resumed run past the restore). */
  neededBytes: (host: string) => number;
  needToolOnMembers: boolean;
}

/** Bytes a restore needs beside the data dir: the snapshot (or archive) copy plus the restored data, with a margin. */
export function bytesNeededFor(snapshotBytes: number): number {
  return 2 * snapshotBytes + 64 * 1024 * 1024;
}

export async function runPreflight(options: PreflightOptions): Promise<PreflightResult> {
  const access = (dirs: string[]): PlannedAction => loginAccessAction('login user can stop units and swap data dirs', dirs);
  const hosts = new Map<string, PlannedAction[]>(
    options.members.map((m) => [
      m.host,
      [
        access([restorePaths(m.dataDir, options.runId).parentDir]),
        {
          title: 'preflight',
          module: etcdPreflightModule,
          args: { run_id: options.runId, needed_bytes: options.neededBytes(m.host), need_tool: options.needToolOnMembers },
        },
      ],
    ]),
  );
  for (const host of options.transports.keys()) if (!hosts.has(host)) hosts.set(host, [access([])]);
  const outcome = await runPhase(
    { id: 'preflight', title: 'read-only checks on every member and kube host', hosts },
    readOnlyPhaseContext(options.inventory, options.transports),
  );
  const facts = new Map<string, MemberFacts>();
  const problems: string[] = [];
  const warnings: string[] = [];
  const labelOf = hostLabels(options.members);
  const isMember = new Set(options.members.map((m) => m.host));
  for (const host of hosts.keys()) {
    const who = labelOf(host);
    const [accessOutcome, memberOutcome] = outcome.outcomes.get(host) ?? [];
    const accessProblems = loginAccessProblems(accessOutcome, who);
    const result = memberOutcome?.result as MemberFacts | undefined;
    if (accessProblems.length > 0) {
      problems.push(...accessProblems);
    } else if (result) {
      facts.set(host, result);
      problems.push(...result.problems.map((p) => `${who}: ${p}`));
      warnings.push(...result.warnings.map((w) => `${who}: ${w}`));
    } else if (outcome.failures.has(host) || isMember.has(host)) {
      problems.push(`${who}: ${outcome.failures.get(host) ?? 'the checks did not run'}`);
    }
  }
  return { facts, problems, warnings };
}
