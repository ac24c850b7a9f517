// `drillSnapshot`: prove a snapshot restores. The snapshot is verified and the tools found before anything
// starts; then every member's data dir is restored with its own identity into a temporary folder, real
// etcd processes start on free loopback ports, and the cluster is checked (quorum, one leader, one
// cluster id, the member list, the revision, one HashKV, the content against the snapshot file, the
// inventory's expectations). Everything is stopped by pid and removed, whatever happened; the drill is
// recorded in the catalog and the metrics. Nothing on the real cluster is contacted.
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { backupLocations, inventoryVar, type BackupLocations } from '../etcd/backup/locations.js';
import { formatBytes } from '../etcd/backup/format.js';
import { requireEtcd } from '../config/etcd-vars.js';
import { ExitCode, RefusedError } from '../errors.js';
import { LiveKeyReader } from '../etcd/live-keys.js';
import { digestStream } from './content-digest.js';
import { checkExpectations, hashCheck, memberListCheck, statusChecks, waitForCluster } from './drill-checks.js';
import {
  asEtcdMembers,
  freeLoopbackPorts,
  planMembers,
  restoreMembers,
  startMembers,
  stopMembers,
  type DrillMember,
  type RunningMember,
} from './drill-members.js';
import { recordDrill } from './drill-record.js';
import { DrillSession, DrillStop } from './drill-session.js';
import { chooseDrillSnapshot, type DrilledSnapshot } from './drill-snapshot.js';
import type { DrillOptions, DrillResult } from './drill-types.js';
import { findEtcdTools, type EtcdTools } from './etcd-tools.js';
import { drillExpectations, registryPrefixOf, type DrillExpectation } from './expectations.js';
import { expectFromSnapshot, type SnapshotExpectation } from './snapshot-expectation.js';
import { cleanStaleWorkspaces, DrillWorkspace, isAlive } from './workspace.js';

export const DEFAULT_BUMP = 1_000_000_000;
const GIB = 1024 * 1024 * 1024;

interface Plan {
  locations: BackupLocations;
  expectations: DrillExpectation[];
  registryPrefix: string;
  names: string[];
  count: number;
  token: string;
  parent: string;
}

/** Prove a snapshot restores; never throws for a failed drill (the result says why), only for bad configuration. */
export async function drillSnapshot(options: DrillOptions): Promise<DrillResult> {
  const plan = planDrill(options);
  const session = new DrillSession(plan.locations.cluster, options);
  const digestAbort = new AbortController();
  let workspace: DrillWorkspace | undefined;
  let running: RunningMember[] = [];
  let expected: Promise<SnapshotExpectation> | undefined;
  const temporaries: (() => Promise<void>)[] = [];
  try {
    const { snapshot, tools } = await preflight(session, plan, options, temporaries);
    await cleanStaleWorkspaces(plan.parent);
    workspace = await DrillWorkspace.create(plan.parent);
    session.result.workDir = workspace.dir;
    // The snapshot's own content is read while the members restore and start (JS here, Go there: 2 cores).
    expected = expectFromSnapshot(snapshot.path, {
      workDir: workspace.dir,
      registryPrefix: plan.registryPrefix,
      signal: digestAbort.signal,
      ...(session.result.bumpRevision ? { bumpTo: snapshot.revision + session.result.bumpRevision } : {}),
    });
    expected.catch(() => undefined);
    const members = await restore(session, plan, options, snapshot, tools, workspace);
    session.begin('start');
    running = startMembers(tools, members, drillToken(plan.token, session.id), workspace, quotaFor(snapshot.size));
    session.end(`started ${running.length} etcd members on 127.0.0.1 (pids ${running.map((r) => r.pid).join(', ')})`);
    await verifyCluster(session, plan, options, members, running, snapshot, expected);
  } catch (error) {
    session.absorb(error);
  } finally {
    digestAbort.abort();
    await expected?.catch(() => undefined);
    await teardown(session, running, workspace);
    // A decrypted or downloaded snapshot never outlives the drill.
    for (const discard of temporaries) await discard().catch(() => undefined);
  }
  const result = session.finish();
  if (options.record !== false) result.recorded = await recordDrill(plan.locations, result, options.inventory);
  return result;
}

function planDrill(options: DrillOptions): Plan {
  const { inventory } = options;
  const locations = backupLocations(inventory, options.metricsFile ? { metricsFile: options.metricsFile } : {});
  const expectations = drillExpectations(inventory);
  const members = requireEtcd(inventory);
  const count = options.members ?? members.length;
  const workVar = inventoryVar(inventory, 'drill_work_dir');
  const parent = options.workDir ?? (workVar ? resolve(inventory.dir, workVar) : tmpdir());
  const token = members[0]?.token ?? 'etcd-cluster-0';
  return { locations, expectations, registryPrefix: registryPrefixOf(inventory), names: members.map((m) => m.name), count, token, parent };
}

/** A token of its own: the throwaway cluster can never be mistaken for (or join) the real one. */
function drillToken(token: string, id: string): string {
  return `${token}-drill-${id.slice(0, 8)}`;
}

/** etcd refuses writes past its quota; a large snapshot must still start (2 GiB default, up to 8 GiB). */
function quotaFor(size: number): number {
  return Math.min(8 * GIB, Math.max(2 * GIB, Math.ceil(size * 2)));
}

async function preflight(
  session: DrillSession,
  plan: Plan,
  options: DrillOptions,
  temporaries: (() => Promise<void>)[],
): Promise<{ snapshot: DrilledSnapshot; tools: EtcdTools }> {
  session.begin('snapshot');
  const choice = await chooseDrillSnapshot(
    { locations: plan.locations, ...(options.opener ? { opener: options.opener } : {}) },
    options.snapshot,
    options.signal,
  );
  if (!choice.ok) {
    session.result.snapshot = { path: choice.path };
    throw new DrillStop('snapshot', ExitCode.refused, `${choice.message}; nothing was started`);
  }
  const { snapshot } = choice;
  // Reported and recorded by where it came from: a decrypted or downloaded temporary is gone after the drill.
  const { from, discard, ...found } = snapshot;
  if (discard) temporaries.push(discard);
  session.result.snapshot = { ...found, path: from ?? snapshot.path };
  session.end(
    `snapshot ${snapshot.path}: revision ${snapshot.revision}, ${snapshot.totalKey} bbolt entries, ${formatBytes(snapshot.size)}, ${snapshot.hasHash ? 'sha256 trailer verified' : 'no sha256 trailer (a raw member/snap/db): restored with --skip-hash-check'}`,
  );
  session.begin('tools');
  let tools: EtcdTools;
  try {
    tools = await findEtcdTools(options.path);
  } catch (error) {
    if (error instanceof RefusedError) throw new DrillStop('tools', ExitCode.refused, `${error.message}${error.hint ? `; ${error.hint}` : ''}`);
    throw error;
  }
  const bump = options.bumpRevision ?? DEFAULT_BUMP;
  const notes = [
    tools.restore.bumpRevision
      ? bump > 0
        ? `${tools.restore.tool} ${tools.restore.version} restores with --bump-revision ${bump} --mark-compacted`
        : `revision bump turned off`
      : `${tools.restore.tool} ${tools.restore.version} cannot bump the revision (no --bump-revision): the cluster serves the snapshot's revision`,
  ];
  if (!snapshot.hasHash) notes.push('--skip-hash-check: the file has no sha256 trailer');
  session.result.tools = {
    etcd: `etcd ${tools.etcd.version} (${tools.etcd.path})`,
    restore: `${tools.restore.tool} ${tools.restore.version} (${tools.restore.path})`,
    notes,
  };
  if (tools.restore.bumpRevision && bump > 0) session.result.bumpRevision = bump;
  session.result.expectedRevision = snapshot.revision + (session.result.bumpRevision ?? 0);
  session.end(`etcd ${tools.etcd.version}; ${notes.join('; ')}`);
  await checkSpace(session, plan, snapshot);
  return { snapshot, tools };
}

async function checkSpace(session: DrillSession, plan: Plan, snapshot: DrilledSnapshot): Promise<void> {
  session.begin('space');
  const needed = plan.count * snapshot.size + 64 * 1024 * 1024;
  const info = await statfs(plan.parent).catch(() => undefined);
  if (!info) throw new DrillStop('space', ExitCode.refused, `the work folder ${plan.parent} cannot be used (missing?); give another with --work-dir`);
  const free = info.bavail * info.bsize;
  if (free < needed)
    throw new DrillStop(
      'space',
      ExitCode.refused,
      `${plan.parent} has ${formatBytes(free)} free; ${plan.count} restored members of this snapshot need about ${formatBytes(needed)}; nothing was started (give another folder with --work-dir or drill_work_dir)`,
    );
  session.end();
}

async function restore(
  session: DrillSession,
  plan: Plan,
  options: DrillOptions,
  snapshot: DrilledSnapshot,
  tools: EtcdTools,
  workspace: DrillWorkspace,
): Promise<DrillMember[]> {
  session.begin('restore');
  const ports = await freeLoopbackPorts(plan.count * 2);
  const members = planMembers(plan.names, plan.count, ports, workspace.dir);
  session.result.members = members.map((m) => ({ name: m.name, clientUrl: m.clientUrl, peerUrl: m.peerUrl }));
  const timeoutMs = Math.max(120_000, Math.ceil(snapshot.size / (20 * 1024 * 1024)) * 1_000);
  try {
    await restoreMembers(
      tools,
      snapshot.path,
      members,
      drillToken(plan.token, session.id),
      { skipHashCheck: !snapshot.hasHash, ...(session.result.bumpRevision ? { bumpRevision: session.result.bumpRevision } : {}) },
      { timeoutMs, ...(options.signal ? { signal: options.signal } : {}) },
    );
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new DrillStop('restore', ExitCode.failed, (error as Error).message);
  }
  session.end(
    `restored ${members.length} data dirs with ${tools.restore.tool}, each with its own --name and peer URL (${members.map((m) => m.name).join(', ')})`,
  );
  return members;
}

async function verifyCluster(
  session: DrillSession,
  plan: Plan,
  options: DrillOptions,
  members: DrillMember[],
  running: RunningMember[],
  snapshot: DrilledSnapshot,
  expected: Promise<SnapshotExpectation>,
): Promise<void> {
  const etcdMembers = asEtcdMembers(members, drillToken(plan.token, session.id));
  const expectedRevision = session.result.expectedRevision ?? snapshot.revision;
  session.begin('quorum');
  const quorum = await waitForCluster(etcdMembers, running, {
    deadline: Date.now() + (options.timeoutMs ?? 60_000),
    since: session.started,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (quorum.quorumMs !== undefined) session.result.timings.timeToQuorumMs = quorum.quorumMs;
  if (!quorum.ok) throw new DrillStop('quorum', ExitCode.failed, quorum.detail);
  session.end(`quorum ${(session.result.timings.timeToQuorumMs ?? 0) / 1000}s after the drill began; ${quorum.detail}`);
  session.begin('checks');
  statusChecks(quorum.statuses, members, expectedRevision).forEach((c) => session.check(c));
  const leader = etcdMembers[quorum.statuses.findIndex((s) => s?.isLeader)] ?? etcdMembers[0];
  if (leader) session.check(await memberListCheck(leader, members));
  const want = await expected;
  session.check(await hashCheck(etcdMembers, expectedRevision, want.hash?.hash));
  const reader = await LiveKeyReader.connect(etcdMembers, {
    timeoutMs: 30_000,
    revision: expectedRevision,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    // Keys only: the values are covered by the HashKV above, every revision of them.
    const served = await digestStream(reader.keys(options.signal ? { signal: options.signal } : {}), plan.registryPrefix, options.signal);
    session.result.keys = { snapshot: want.content.keys, cluster: served.keys };
    session.result.resources = served.resources;
    const same = served.keys === want.content.keys && served.digest === want.content.digest;
    session.check({
      id: 'keys',
      ok: same,
      detail: same
        ? `${served.keys} keys, each with the snapshot's create and mod revision and version`
        : `the cluster serves ${served.keys} keys (digest ${served.digest.slice(0, 12)}), the snapshot holds ${want.content.keys} (digest ${want.content.digest.slice(0, 12)})`,
    });
    session.end();
    session.begin('expectations');
    const { results, check } = await checkExpectations(reader, plan.expectations);
    session.result.expectations = results;
    session.check(check);
    session.result.timings.timeToLastCheckMs = session.elapsedMs;
    session.end();
  } finally {
    reader.close();
  }
}

async function teardown(session: DrillSession, running: RunningMember[], workspace: DrillWorkspace | undefined): Promise<void> {
  if (!workspace) return;
  session.begin('teardown');
  const left = await stopMembers(running, workspace);
  if (left.length === 0) await workspace.remove();
  else session.result.leftBehind.dir = workspace.dir;
  session.result.leftBehind.pids = [...left, ...running.filter((r) => !left.includes(r.pid) && isAlive(r.pid)).map((r) => r.pid)];
  session.end(
    left.length
      ? `could not stop etcd pids ${left.join(', ')}; left ${workspace.dir}`
      : `stopped ${running.length} members by pid, removed ${workspace.dir}`,
  );
}
