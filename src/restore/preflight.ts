// The preflight: `etcd.preflight` on every member, read-only steps only (it also runs under --dry-run).
// Every problem on every member is collected, so one run shows all there is to fix.
import type { EtcdMember, Inventory } from '../config/types.js';
import type { EtcdPreflightResult } from '../modules/restore/etcd-preflight.js';
import { etcdPreflightModule } from '../modules/restore/index.js';
import type { Transport } from '../transport/types.js';
import { readOnlyPhaseContext, runPhase } from './run-phases.js';

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
  const hosts = new Map(
    options.members.map((m) => [
      m.host,
      [{ title: 'preflight', module: etcdPreflightModule, args: { run_id: options.runId, needed_bytes: options.neededBytes(m.host), need_tool: options.needToolOnMembers } }],
    ]),
  );
  const outcome = await runPhase(
    { id: 'preflight', title: 'read-only checks on every member', hosts },
    readOnlyPhaseContext(options.inventory, options.transports),
  );
  const facts = new Map<string, MemberFacts>();
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const member of options.members) {
    const who = `${member.name} (${member.host})`;
    const result = outcome.outcomes.get(member.host)?.[0]?.result as MemberFacts | undefined;
    if (result) {
      facts.set(member.host, result);
      problems.push(...result.problems.map((p) => `${who}: ${p}`));
      warnings.push(...result.warnings.map((w) => `${who}: ${w}`));
    } else {
      problems.push(`${who}: ${outcome.failures.get(member.host) ?? 'the checks did not run'}`);
    }
  }
  return { facts, problems, warnings };
}
