// `orchestrate member replace INVENTORY HOST`: refuse when the quorum would not hold, preflight, preview,
// confirm, then playbooks/member-replace.yml on HOST, journaled (a re-run continues an interrupted replace).
import { requireEtcd } from '../../config/etcd-vars.js';
import type { EtcdMember } from '../../config/types.js';
import { ExitCode, RefusedError, UsageError } from '../../errors.js';
import type { ClusterVerdict } from '../../etcd/cluster/verdict.js';
import {
  archiveRecoverJournal,
  readRecoverJournal,
  recoverJournalPath,
  RecoverJournalWriter,
  type RecoverJournal,
} from '../../etcd/member/journal.js';
import { checkReplace, replacedDataDir } from '../../etcd/member/replace.js';
import { resolveMember } from '../../etcd/members/resolve.js';
import { newRunId } from '../../etcd/restore/paths.js';
import { clusterObserver } from '../../modules/etcd-access.js';
import { restoreClusterKey } from '../../modules/restore/restore-state.js';
import { now, printablePlan, type PrintablePhase } from '../restore/events.js';
import type { Procedure } from '../procedure.js';
import { openReplaceProcedure, readMemberConfigs, replaceMembers } from './replace-run.js';
import { confirmOrRefuse, preflightOrRefuse, type CommonRunOptions } from './shared.js';

export interface MemberReplaceReport {
  kind: 'member-replace';
  host: string;
  name: string;
  runId: string;
  dryRun: boolean;
  resumed: boolean;
  status: 'dry-run' | 'completed' | 'failed' | 'interrupted';
  exitCode: number;
  failure?: string;
  oldDataAt: string;
  verdict?: ClusterVerdict;
  phases: { id: string; ms: number }[];
  wallMs: number;
  plan?: PrintablePhase[];
  journal: string;
}

export async function replaceMember(options: CommonRunOptions, wanted: string): Promise<MemberReplaceReport> {
  const started = Date.now();
  const members = requireEtcd(options.inventory);
  const target = members.find((m) => m.host === wanted) ?? members.find((m) => m.name === wanted);
  if (!target)
    throw new UsageError(
      `${wanted} is not an etcd member of ${options.inventory.file}`,
      `name one of: ${members.map((m) => `${m.host} (${m.name})`).join(', ')}`,
    );
  const token = members[0]?.token ?? 'cluster';
  const journalFile = recoverJournalPath(options.inventory.dir, token);
  const resuming = await resumableOrRefuse(options, journalFile, target);
  const runId = resuming?.runId ?? newRunId();
  const journal: RecoverJournal = resuming ?? newReplaceJournal(runId, token, options.inventory.file, target.host);
  const procedure = await openReplaceProcedure(options.inventory, runId, options.timeouts, options.connect);
  const report: MemberReplaceReport = {
    kind: 'member-replace',
    host: target.host,
    name: target.name,
    runId,
    dryRun: options.dryRun,
    resumed: Boolean(resuming),
    status: 'dry-run',
    exitCode: ExitCode.ok,
    oldDataAt: replacedDataDir(target.dataDir, runId),
    phases: [],
    wallMs: 0,
    journal: journalFile,
  };
  try {
    const only = new Set([target.host]);
    await readMemberConfigs(procedure);
    // Once the member is out of the cluster the quorum no longer depends on it: only a fresh replace is checked.
    if (!resuming?.done[target.host]?.includes('remove-member')) await refuseIfQuorumWouldBeLost(options, target, procedure);
    await preflightOrRefuse(procedure, options.inventory, only, 'replace.preflight-failed');
    // The data dir the member's own configuration names is the one moved aside.
    const config = procedure.session.state.get(restoreClusterKey).configs.get(target.host);
    const host = options.inventory.hosts.get(target.host);
    const dataDir = host ? resolveMember(host, target, config).member.dataDir : target.dataDir;
    report.oldDataAt = replacedDataDir(dataDir, runId);
    report.plan = printablePlan(await procedure.pass({ dryRun: true, skipTags: ['preflight'], onlyHosts: only }));
    options.emit({
      type: 'summary',
      text: `Replace ${target.name} (${target.host}): remove it, move ${dataDir} aside to ${report.oldDataAt}, add it back as ${target.name} ${target.peerUrl} (a learner until it has caught up), start it with --initial-cluster-state existing, verify.\n`,
      at: now(),
    });
    options.emit({ type: 'plan', phases: report.plan, at: now() });
    if (options.dryRun) return report;
    await confirmOrRefuse(options, `Replace etcd member ${target.name} on ${target.host} (its data moved aside)?`, 'replace.not-confirmed');
    const writer = new RecoverJournalWriter(journalFile, journal);
    await writer.update((j) => void (j.marks[resuming ? `resumed-${Object.keys(j.marks).length}` : 'started'] = now()));
    const [outcome] = await replaceMembers(procedure, writer, [target.host], options.emit, options.signal);
    report.phases = outcome?.phases.map((p) => ({ id: p.id, ms: p.ms })) ?? [];
    if (outcome?.verdict) report.verdict = outcome.verdict;
    report.status = outcome?.ok ? 'completed' : outcome?.interrupted ? 'interrupted' : 'failed';
    report.exitCode = outcome?.ok ? ExitCode.ok : outcome?.interrupted ? ExitCode.interrupted : ExitCode.failed;
    if (outcome?.failure)
      report.failure = `${outcome.failure}; run the same command again to finish (the journal ${journalFile} records where it stopped)`;
    await writer.update((j) => {
      j.status = outcome?.ok ? 'completed' : 'in-progress';
      if (outcome?.failure) j.error = outcome.failure;
      if (outcome?.ok) j.marks.finished = now();
    });
    if (outcome?.ok) await archiveRecoverJournal(journalFile, runId);
    return report;
  } finally {
    report.wallMs = Date.now() - started;
    await procedure.close();
  }
}

/** The interrupted replace of this member to continue, if any; refused when another run is unfinished. */
async function resumableOrRefuse(options: CommonRunOptions, journalFile: string, target: EtcdMember): Promise<RecoverJournal | undefined> {
  const previous = await readRecoverJournal(journalFile);
  let resuming: RecoverJournal | undefined;
  if (previous?.status === 'in-progress') {
    if (previous.kind !== 'member-replace' || previous.replace[0] !== target.host) {
      throw new RefusedError(
        `an unfinished ${previous.kind === 'recover' ? 'recovery' : `replace of ${previous.replace[0] ?? '?'}`} (${previous.runId}) is recorded for this cluster`,
        previous.kind === 'recover'
          ? 'finish it first: orchestrate recover INVENTORY'
          : `finish it first: orchestrate member replace INVENTORY ${previous.replace[0] ?? ''}`,
        'replace.unfinished',
      );
    }
    resuming = previous;
    options.emit({ type: 'info', message: `continuing the interrupted replace ${previous.runId} of ${target.name}`, at: now() });
  }
  return resuming;
}

/** Refused when removing the member would lose the quorum, as the members say (asked on the members with etcd_access: ssh). */
async function refuseIfQuorumWouldBeLost(options: CommonRunOptions, target: EtcdMember, procedure: Procedure): Promise<void> {
  const members = requireEtcd(options.inventory);
  const observe = clusterObserver(procedure.session.state, options.inventory);
  const allowed = checkReplace(members, await observe(members, { timeoutMs: 3_000 }), target.host);
  if (!allowed.ok)
    throw new RefusedError(
      `refusing to replace ${target.name}: ${allowed.problem ?? ''}; nothing was changed`,
      'bring the other members back first (orchestrate recover INVENTORY)',
      'replace.would-lose-quorum',
    );
}

function newReplaceJournal(runId: string, token: string, inventory: string, host: string): RecoverJournal {
  const at = now();
  const fresh = { start: [], replace: [host], replaced: {}, begun: [], done: {}, marks: {} };
  return { version: 1, kind: 'member-replace', runId, clusterToken: token, inventory, status: 'in-progress', startedAt: at, updatedAt: at, ...fresh };
}
