// `orchestrate restore`: preflight, preview, confirmation, then the phases of playbooks/restore.yml with a
// journal written after every phase of every host, automatic rollback when etcd is not healthy and verified,
// and a report with RTO and RPO. A re-run after an interruption continues from the journal.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireEtcd } from '../config/etcd-vars.js';
import type { EtcdMember, Inventory } from '../config/types.js';
import { ConfigError, ExitCode, RefusedError } from '../errors.js';
import type { OpenTransportsOptions } from '../transport/open-transports.js';
import { observeCluster, waitForVerifiedCluster } from '../modules/restore/cluster-probe.js';
import { checkIdentities, initialClusterFlag, type RestoreTool } from '../modules/restore/identity.js';
import {
  archiveJournal,
  DEPLOY_HOST,
  isDone,
  journalPath,
  JournalWriter,
  readJournal,
  type RestoreJournal,
  type RestoreMode,
  type RestorePhase,
} from './journal.js';
import { localFreeBytes, localRestoreTool } from './local-restore.js';
import { newRunId, restorePaths, type MemberRestorePaths } from '../modules/restore/paths.js';
import { buildRestorePlan, DEFAULT_TIMEOUTS, type PlanMember, type PlanTimeouts } from './plan.js';
import { bytesNeededFor, runPreflight, type MemberFacts } from './preflight.js';
import type { MemberReport, RestoreReport } from './report.js';
import { executeRollback, type RollbackOutcome } from './rollback-run.js';
import { previewPlan, runPhase, type PhaseOutcome, type RestoreEvent } from './run-phases.js';
import { hostServices, topologyOf } from '../modules/restore/unit-commands.js';
import { connectAll, disconnectAll, hostsOf, now, type Session } from './session.js';
import { checkSnapshotFile, chooseSnapshot, formatDuration, type ChosenSnapshot } from './snapshot-source.js';
import type { ClusterVerdict } from '../modules/restore/verify-cluster.js';

export interface RestoreRunOptions {
  inventory: Inventory;
  /** A file, or `latest` (default): the newest verified snapshot. */
  snapshot?: string;
  dryRun?: boolean;
  yes?: boolean;
  acceptOldSnapshot?: boolean;
  /** Default 24 h. */
  maxSnapshotAgeMs?: number;
  /** `member` (default): each member restores its own dir; `deploy-host`: restored here and uploaded. */
  mode?: RestoreMode;
  /** Asks the operator on a terminal; leave out when there is none (then --yes is required). */
  confirm?: (question: string) => Promise<boolean>;
  emit?: (event: RestoreEvent) => void;
  timeouts?: Partial<PlanTimeouts>;
  connect?: OpenTransportsOptions;
  /** Ctrl-C: stop at the next step boundary; the journal lets a re-run continue. */
  signal?: AbortSignal;
}

const DAY_MS = 24 * 3_600_000;
const INTERRUPTIBLE = new Set(['copy-snapshot', 'restore-data']);

/**
 * Test-only fault injection: ORCHESTRATE_FAILPOINT=<phase>:<host> kills this process (SIGKILL, no cleanup)
 * right after the journal recorded that host's phase - a deploy host dying mid-restore, on demand.
 */
function failpoint(phase: string, host: string): void {
  const spec = process.env.ORCHESTRATE_FAILPOINT;
  if (spec && spec === `${phase}:${host}`) process.kill(process.pid, 'SIGKILL');
}

/** Whether a phase still has to run on a host, given the journal of an earlier (interrupted) run. */
export function shouldRunRestorePhase(journal: RestoreJournal, phase: RestorePhase, host: string): boolean {
  switch (phase) {
    // Stopping is idempotent and a member may have rebooted since: redo it until etcd is started on the new data.
    case 'stop-kube-node':
    case 'stop-kube-master':
    case 'stop-etcd':
      return !journal.begun.includes('start-etcd');
    case 'start-etcd':
      return !isDone(journal, DEPLOY_HOST, 'verify-cluster');
    default:
      return !isDone(journal, host, phase);
  }
}

/**
 * The report's words for a Ctrl-C: where the run stopped and, when it had stopped services and not started
 * etcd again, what stays down (by design a Ctrl-C does not roll back: the operator chooses).
 */
export function interruptedFailure(
  journal: RestoreJournal,
  journalFile: string,
  failedPhase: string | undefined,
  lastPhase: string | undefined,
): string {
  const where = failedPhase ? ` during ${failedPhase}` : lastPhase ? ` after ${lastPhase}` : ' before the first phase';
  const begun = (phase: RestorePhase) => journal.begun.includes(phase);
  let down = '';
  if (!begun('start-etcd')) {
    if (begun('stop-etcd')) down = '; until then etcd stays stopped (the cluster and the Kubernetes API are down)';
    else if (begun('stop-kube-master')) down = '; until then the kube_master services stay stopped (the Kubernetes API is down)';
    else if (begun('stop-kube-node')) down = '; until then the kube_node services stay stopped';
  }
  return `interrupted${where}; the journal ${journalFile} records each member's state: run the same command again to continue, or --rollback to undo${down}`;
}

function memberReports(
  members: readonly EtcdMember[],
  journal: RestoreJournal | undefined,
  paths: ReadonlyMap<string, MemberRestorePaths>,
  hadOld: ReadonlyMap<string, boolean>,
  rollback?: RollbackOutcome,
): MemberReport[] {
  return members.map((m) => {
    const p = paths.get(m.host)!;
    const report: MemberReport = { host: m.host, name: m.name, dataDir: p.dataDir };
    const restoredAside = rollback?.restoredDataAt.get(m.host);
    if (restoredAside) {
      report.restoredDataAt = restoredAside;
      report.state = 'old data back in place';
      return report;
    }
    if (!journal) return report;
    const swapped = isDone(journal, m.host, 'swap-data');
    if (rollback && rollback.status !== 'rollback-failed') report.state = 'old data in place (never moved)';
    else if (swapped) {
      if (hadOld.get(m.host)) report.oldDataAt = p.asideDir;
      report.state = 'restored data in place';
    } else if (journal.begun.includes('swap-data'))
      report.state = `swap not confirmed: the data dir is ${p.dataDir} or ${p.asideDir}; re-run to finish or --rollback`;
    else report.state = 'old data in place (never moved)';
    if (rollback?.status === 'rollback-failed' && swapped)
      report.state = `restored data still in place (rollback failed here); old data at ${p.asideDir}`;
    return report;
  });
}

export async function restoreCluster(options: RestoreRunOptions): Promise<RestoreReport> {
  const started = Date.now();
  const emit = options.emit ?? (() => undefined);
  const warn = (message: string) => {
    warnings.push(message);
    emit({ type: 'warning', message, at: now() });
  };
  const warnings: string[] = [];
  const { inventory } = options;
  const timeouts: PlanTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const signal = options.signal ?? new AbortController().signal;
  // Work before the first phase (it changes nothing, but counts in the wall time): shown in the RTO breakdown.
  const preparation: { id: string; ms: number }[] = [];
  let lapStarted = started;
  const lap = (id: string) => {
    const at = Date.now();
    preparation.push({ id, ms: at - lapStarted });
    lapStarted = at;
  };

  // 1. Identities, topology, journal: all from the deploy host, nothing contacted yet.
  const members = requireEtcd(inventory);
  const identity = checkIdentities(members);
  if (identity.errors.length) throw new ConfigError(identity.errors.map((p) => ({ ...p, loc: p.loc ?? { file: inventory.file, line: 1, col: 1 } })));
  topologyOf(inventory);
  const services = hostServices(inventory);
  const token = members[0]!.token;
  const journalFile = journalPath(inventory.dir, token);
  const previous = await readJournal(journalFile);
  if (previous && (previous.status === 'rolling-back' || previous.status === 'rollback-failed')) {
    throw new RefusedError(
      `the restore ${previous.runId} of this cluster was being rolled back and did not finish (${journalFile})`,
      'finish it first: orchestrate restore --rollback INVENTORY',
      'restore.rollback-unfinished',
    );
  }
  const resuming = previous?.status === 'in-progress' ? previous : undefined;
  if (resuming) {
    const missing = members.filter((m) => !resuming.members[m.host]).map((m) => m.host);
    if (missing.length || Object.keys(resuming.members).length !== members.length) {
      throw new RefusedError(
        `an unfinished restore (${resuming.runId}) was recorded for other members than the inventory lists now${missing.length ? ` (new: ${missing.join(', ')})` : ''}`,
        `restore the inventory it ran with, then re-run or roll back; the journal is ${journalFile}`,
        'restore.journal-mismatch',
      );
    }
  }

  // 2. The snapshot, verified here: a bad file is refused before any host is touched.
  let snapshot: ChosenSnapshot;
  if (resuming) {
    if (options.snapshot && options.snapshot !== 'latest' && resolve(options.snapshot) !== resuming.snapshot.path) {
      throw new RefusedError(
        `an unfinished restore (${resuming.runId}, from ${resuming.snapshot.path}) must be finished before restoring another snapshot`,
        'run the same command without --snapshot to continue it, or roll it back with --rollback',
        'restore.unfinished',
      );
    }
    snapshot = { ...(await checkSnapshotFile(resuming.snapshot.path, { sha256: resuming.snapshot.sha256 })), takenAt: resuming.snapshot.takenAt };
    emit({ type: 'info', message: `continuing the interrupted restore ${resuming.runId} (journal ${journalFile})`, at: now() });
  } else {
    snapshot = await chooseSnapshot(inventory, options.snapshot);
  }
  lap('check-snapshot');
  const ageMs = Math.max(0, Date.now() - new Date(snapshot.takenAt).getTime());
  const maxAge = options.maxSnapshotAgeMs ?? DAY_MS;
  if (!resuming && ageMs > maxAge) {
    const message = `the snapshot is ${formatDuration(ageMs)} old (limit ${formatDuration(maxAge)}): every write since ${snapshot.takenAt} will be lost`;
    if (options.dryRun) warn(`${message}; a real run needs --yes --accept-old-snapshot`);
    else if (!(options.yes && options.acceptOldSnapshot)) {
      throw new RefusedError(
        `${message}; nothing was changed`,
        'restore it anyway with --yes --accept-old-snapshot, or take a fresh backup (or raise --max-snapshot-age)',
        'restore.snapshot-too-old',
      );
    }
  }
  if (!snapshot.hasHash) warn(`${snapshot.path} has no sha256 trailer (a raw member/snap/db copy): restoring with --skip-hash-check`);

  const mode: RestoreMode = resuming?.mode ?? options.mode ?? 'member';
  const runId = resuming?.runId ?? newRunId();
  const paths = new Map(members.map((m) => [m.host, resuming?.members[m.host]?.paths ?? restorePaths(m.dataDir, runId)]));
  for (const w of identity.warnings) warn(w.message);

  // Second mode: the deploy host needs the tool and room for every member's archive.
  let deployHost: { tool: RestoreTool; workDir: string } | undefined;
  if (mode === 'deploy-host') {
    const tool = await localRestoreTool();
    if (!tool)
      throw new RefusedError(
        '--restore-on deploy-host needs etcdutl or etcdctl on the deploy host, and neither is on the PATH',
        'install etcd-client here, or restore on the members',
        'restore.no-local-tool',
      );
    const free = await localFreeBytes(tmpdir());
    const needed = members.length * bytesNeededFor(snapshot.size);
    if (free !== undefined && free < needed)
      throw new RefusedError(
        `${tmpdir()} on the deploy host has ${Math.floor(free / 1048576)} MiB free; restoring ${members.length} members there needs ${Math.ceil(needed / 1048576)} MiB`,
        'free space or set TMPDIR',
        'restore.no-local-space',
      );
    deployHost = { tool, workDir: join(tmpdir(), `orchestrate-restore-${runId}`) };
  }

  // 3. Connections and the read-only preflight on every member.
  const transports = await connectAll(inventory, hostsOf(members, services), options.connect ?? {}, !resuming);
  const session: Session = { inventory, members, services, transports, timeouts, signal, emit };
  lap('connect');
  try {
    const preflight = await runPreflight({
      inventory,
      members,
      transports,
      runId,
      needToolOnMembers: mode === 'member',
      neededBytes: (host) => (resuming && isDone(resuming, host, 'restore-data') ? 0 : bytesNeededFor(snapshot.size)),
    });
    for (const w of preflight.warnings) warn(w);
    if (preflight.problems.length) {
      throw new RefusedError(
        `preflight failed, nothing was changed:\n  - ${preflight.problems.join('\n  - ')}`,
        'fix the problems above and run again',
        'restore.preflight-failed',
      );
    }
    const hadOld = new Map(members.map((m) => [m.host, resuming?.members[m.host]?.hadOldData ?? preflight.facts.get(m.host)!.had_old_data]));
    const current = resuming ? [] : await observeCluster(members, 2_000);
    const planMembers: PlanMember[] = members.map((m) => {
      const tool = preflight.facts.get(m.host)?.tool ?? resuming?.members[m.host]?.tool;
      return { member: m, paths: paths.get(m.host)!, hadOldData: hadOld.get(m.host)!, ...(tool ? { tool } : {}) };
    });

    lap('preflight');
    // 4. The plan, as data: the preview drives its modules without changing anything, the executor runs them.
    const plan = buildRestorePlan({ runId, mode, members: planMembers, services, snapshot, timeouts, ...(deployHost ? { deployHost } : {}) });
    emit({
      type: 'summary',
      text: summaryText({
        members,
        snapshot,
        ageMs,
        current,
        planMembers,
        services,
        mode,
        journalFile,
        runId,
        resuming: Boolean(resuming),
        preflight: preflight.facts,
      }),
      at: now(),
    });
    const printable = await previewPlan(plan, inventory, transports);
    emit({ type: 'plan', phases: printable, at: now() });
    lap('plan');

    const baseReport = (): RestoreReport => ({
      kind: 'restore',
      runId,
      mode,
      dryRun: Boolean(options.dryRun),
      resumed: Boolean(resuming),
      status: 'dry-run',
      exitCode: ExitCode.ok,
      snapshot: {
        path: snapshot.path,
        sha256: snapshot.sha256,
        revision: snapshot.revision,
        totalKey: snapshot.totalKey,
        size: snapshot.size,
        takenAt: snapshot.takenAt,
      },
      rto: { wallMs: Date.now() - started, phases: [] },
      rpoMs: ageMs,
      members: memberReports(members, undefined, paths, hadOld),
      journal: journalFile,
      warnings,
    });
    if (options.dryRun)
      return {
        ...baseReport(),
        plan: printable,
        members: members.map((m) => ({
          host: m.host,
          name: m.name,
          dataDir: paths.get(m.host)!.dataDir,
          ...(hadOld.get(m.host) ? { oldDataAt: paths.get(m.host)!.asideDir } : {}),
        })),
      };

    // 5. Confirmation: a terminal prompt, or --yes; never silently.
    if (!options.yes) {
      if (!options.confirm) {
        throw new RefusedError(
          'refusing to restore without confirmation: there is no terminal to ask on and --yes was not given; nothing was changed',
          'review the plan with --dry-run, then run again with --yes',
          'restore.not-confirmed',
        );
      }
      const ok = await options.confirm(
        `Replace the data of all ${members.length} etcd members with this snapshot (revision ${snapshot.revision}, ${formatDuration(ageMs)} old)?`,
      );
      if (!ok) throw new RefusedError('not confirmed; nothing was changed', 'run again and answer yes, or pass --yes', 'restore.not-confirmed');
    }

    // 6. The journal, then the phases.
    if (previous && !resuming) await archiveJournal(journalFile, previous);
    const journal: RestoreJournal = resuming ?? {
      version: 1,
      runId,
      clusterToken: token,
      inventory: inventory.file,
      mode,
      status: 'in-progress',
      startedAt: new Date(started).toISOString(),
      updatedAt: now(),
      snapshot: {
        path: snapshot.path,
        sha256: snapshot.sha256,
        size: snapshot.size,
        revision: snapshot.revision,
        totalKey: snapshot.totalKey,
        hasHash: snapshot.hasHash,
        takenAt: snapshot.takenAt,
      },
      members: Object.fromEntries(
        planMembers.map((m) => [
          m.member.host,
          { name: m.member.name, paths: m.paths, hadOldData: m.hadOldData, service: m.member.service, ...(m.tool ? { tool: m.tool } : {}) },
        ]),
      ),
      begun: [],
      done: {},
      marks: {},
    };
    lapStarted = Date.now(); // the time spent waiting for an answer at the prompt is not the tool's
    const writer = new JournalWriter(journalFile, journal);
    session.writer = writer;
    await writer.update((j) => {
      j.marks[resuming ? `resumed-${Object.keys(j.marks).length}` : 'started'] = now();
      delete j.error;
    });
    const outcomes: PhaseOutcome[] = [];
    let failedPhase: PhaseOutcome | undefined;
    for (const phase of plan) {
      if (signal.aborted) break;
      const outcome = await runPhase(phase, {
        inventory,
        transports,
        dryRun: false,
        signal,
        interruptible: INTERRUPTIBLE,
        shouldRun: (id, host) => shouldRunRestorePhase(writer.journal, id as RestorePhase, host),
        onBegin: async (id) => {
          await writer.markBegun(id as RestorePhase);
          if (id === 'stop-kube-master' && !writer.journal.marks['api-down']) await writer.mark('api-down');
        },
        onHostDone: async (id, host) => {
          await writer.markDone(host, id as RestorePhase);
          failpoint(id, host);
        },
        emit,
      });
      outcomes.push(outcome);
      if (phase.id === 'start-kube-master' && phase.hosts.size > 0 && outcome.failures.size === 0) await writer.mark('api-up', outcome.endedAt);
      if (outcome.failures.size > 0) {
        failedPhase = outcome;
        break;
      }
    }

    const report = baseReport();
    report.status = writer.journal.status;
    report.rto = rtoOf(writer.journal, started, outcomes, preparation);
    const verified = outcomes.find((o) => o.id === 'verify-cluster')?.outcomes.get(DEPLOY_HOST)?.[0]?.result?.verdict as ClusterVerdict | undefined;
    if (verified) report.verdict = verified;
    const describeFailures = (outcome: PhaseOutcome) =>
      `${outcome.id} failed on ${[...outcome.failures].map(([host, message]) => `${host === DEPLOY_HOST ? 'the deploy host' : host}: ${message}`).join('; ')}`;

    if (signal.aborted && (failedPhase || outcomes.length < plan.length)) {
      // Ctrl-C: no automatic rollback - the operator asked to stop; the journal lets them choose.
      await writer.update((j) => {
        j.error = 'interrupted';
      });
      report.exitCode = ExitCode.interrupted;
      report.failure = interruptedFailure(writer.journal, journalFile, failedPhase?.id, outcomes.at(-1)?.id);
      report.members = memberReports(members, writer.journal, paths, hadOld);
      return report;
    }

    if (failedPhase && (failedPhase.id === 'start-kube-master' || failedPhase.id === 'start-kube-node')) {
      // etcd is restored and verified: rolling its data back would not bring these services up.
      await writer.update((j) => {
        j.status = 'completed';
        j.error = describeFailures(failedPhase!);
      });
      report.status = 'completed';
      report.exitCode = ExitCode.failed;
      report.failure = `${describeFailures(failedPhase)} - etcd itself is restored and verified; fix the service and start it`;
    } else if (failedPhase && failedPhase.id !== 'cleanup') {
      const reason = describeFailures(failedPhase);
      emit({ type: 'warning', message: `${reason}; rolling back`, at: now() });
      await writer.update((j) => {
        j.error = reason;
      });
      const rollback = await executeRollback(session, writer, reason);
      report.status = rollback.status;
      report.exitCode = ExitCode.failed;
      report.failure = reason;
      report.rollback = { status: rollback.status, problems: rollback.problems, warnings: rollback.warnings };
      report.members = memberReports(members, writer.journal, paths, hadOld, rollback);
      report.rto = rtoOf(writer.journal, started, [...outcomes, ...rollback.phases], preparation);
      return report;
    } else {
      if (failedPhase) warn(`cleanup: ${describeFailures(failedPhase)}`);
      await writer.update((j) => {
        j.status = 'completed';
        j.marks.finished = now();
      });
      report.status = 'completed';
    }
    report.members = memberReports(members, writer.journal, paths, hadOld);
    report.rto = rtoOf(writer.journal, started, outcomes, preparation);
    return report;
  } finally {
    await disconnectAll(transports);
    if (deployHost) await rm(deployHost.workDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function rtoOf(
  journal: RestoreJournal,
  started: number,
  outcomes: readonly PhaseOutcome[],
  preparation: readonly { id: string; ms: number }[],
): RestoreReport['rto'] {
  const down = journal.marks['api-down'];
  const up = journal.marks['api-up'];
  const rto: RestoreReport['rto'] = { wallMs: Date.now() - started, phases: [...preparation, ...outcomes.map((o) => ({ id: o.id, ms: o.ms }))] };
  if (down && up) rto.apiDowntimeMs = new Date(up).getTime() - new Date(down).getTime();
  return rto;
}

interface SummaryInput {
  members: EtcdMember[];
  snapshot: ChosenSnapshot;
  ageMs: number;
  current: Awaited<ReturnType<typeof observeCluster>>;
  planMembers: PlanMember[];
  services: ReturnType<typeof hostServices>;
  mode: RestoreMode;
  journalFile: string;
  runId: string;
  resuming: boolean;
  preflight: Map<string, MemberFacts>;
}

function summaryText(input: SummaryInput): string {
  const { snapshot } = input;
  const lines: string[] = [];
  lines.push(
    `Restore of etcd cluster "${input.members[0]!.token}" (${input.members.length} members), run ${input.runId}${input.resuming ? ' (continuing)' : ''}`,
  );
  lines.push(`  snapshot  ${snapshot.path}`);
  lines.push(
    `            revision ${snapshot.revision}, ${snapshot.totalKey} keys, ${(snapshot.size / 1048576).toFixed(1)} MiB, sha256 ${snapshot.sha256.slice(0, 16)}..., ${snapshot.hasHash ? 'hash trailer ok' : 'no hash trailer'}`,
  );
  lines.push(`            taken ${snapshot.takenAt} (${formatDuration(input.ageMs)} ago, ${snapshot.takenAtSource})`);
  const answered = input.current.filter((o) => o.status);
  if (answered.length) {
    const revision = Math.max(...answered.map((o) => o.status!.revision));
    const leader = answered.find((o) => o.status!.leaderId === o.status!.memberId);
    const lost = revision - snapshot.revision;
    lines.push(
      `  cluster   answers now: revision ${revision}${leader ? `, leader ${leader.name}` : ''} (${answered.length}/${input.members.length} members)${lost > 0 ? ` - ${lost} revisions newer than the snapshot will be lost` : ''}`,
    );
  } else if (!input.resuming) {
    lines.push('  cluster   does not answer now');
  }
  lines.push(`  identity  --initial-cluster ${initialClusterFlag(input.members)} --initial-cluster-token ${input.members[0]!.token}`);
  lines.push(
    `  mode      ${input.mode === 'member' ? 'each member restores its own data dir' : 'every data dir is restored on the deploy host and uploaded'}`,
  );
  lines.push('  members (data dir -> old data kept at):');
  for (const m of input.planMembers) {
    const facts = input.preflight.get(m.member.host);
    const free = facts?.free_kib !== undefined ? `, ${(facts.free_kib / 1048576).toFixed(1)} GiB free` : '';
    const certs = facts?.certificates.length ? `, certificates valid ${Math.min(...facts.certificates.map((c) => c.daysLeft))}+ days` : '';
    lines.push(
      `    ${m.member.name} (${m.member.host}) ${m.paths.dataDir} -> ${m.hadOldData ? m.paths.asideDir : '(no data dir now)'}  [${m.tool ?? 'deploy host tool'}${free}${certs}]`,
    );
  }
  // Hosts with the same units are named together: "kube-proxy, kubelet on 127.0.0.1, 127.0.0.2".
  const order = (key: 'kubeNode' | 'kubeMaster', reverse: boolean) => {
    const byUnits = new Map<string, string[]>();
    for (const s of input.services.filter((h) => h[key].length)) {
      const units = (reverse ? [...s[key]].reverse() : s[key]).join(', ');
      byUnits.set(units, [...(byUnits.get(units) ?? []), s.host]);
    }
    return (
      [...byUnits]
        .map(
          ([units, hosts]) =>
            `${units} on ${hosts.length === input.services.length && hosts.length > 2 ? `all ${hosts.length} hosts` : hosts.join(', ')}`,
        )
        .join('; ') || 'none'
    );
  };
  lines.push(
    `  stop      kube_node (${order('kubeNode', true)}), then kube_master (${order('kubeMaster', true)}), then etcd on every member (followers first, leader last)`,
  );
  lines.push(
    `  start     etcd on every member together, then kube_master (${order('kubeMaster', false)}), then kube_node (${order('kubeNode', false)})`,
  );
  lines.push(`  journal   ${input.journalFile}`);
  lines.push(`This replaces the data of every etcd member; the Kubernetes API is down from the kube_master stop until they start again.`);
  return `${lines.join('\n')}\n`;
}
