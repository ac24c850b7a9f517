// `etcd.snapshot-on-member`: the fallback when the deploy host cannot reach the members' client port.
// On each member in turn (etcd.status's candidates: healthy followers, then the leader) until one
// delivers: `etcdctl snapshot save` on the member (under `timeout`: against a stopped member it hangs
// forever) into an owner-only temporary file, then a sha256-verified download to a temporary name in the
// backup folder. The member's temporary file is removed after every attempt, whether it worked, failed or
// was interrupted (a cleanup step, bounded by its own timeout), and so is the local copy when the run was
// interrupted after it arrived; copies that a killed run could not remove are swept by the next save on
// that member. Each step names its member's host, so run the task with `delegate_to: localhost`: the engine
// then connects to a member only when its first step runs, and a member whose SSH does not answer fails that
// attempt like any other step (delegated to a member, the engine would connect to it before the module runs,
// and the whole task would be unreachable if it does not answer).
import { rm } from 'node:fs/promises';
import type { EtcdMember } from '../../config/types.js';
import { backupDir } from '../../config/etcd-vars.js';
import { snapshotTempBase, type TakenSnapshot } from '../../etcd/backup/backup-flow.js';
import { ensureBackupDir, removeStaleTemporaries } from '../../etcd/backup/snapshot-store.js';
import { partialPathFor } from '../../etcd/partial-file.js';
import type { Step } from '../step.js';
import type { UnreachableError } from '../../errors.js';
import { defineModule } from '../define.js';
import { call, download, exec, execFailure, outputTail } from '../plan-steps.js';
import type { MemberClientCerts } from '../../etcd/cluster/observe-over-ssh.js';
import { memberClientCerts } from '../etcd-access.js';
import { backupAttempt, failAttempt, snapshotSources } from './backup-attempt.js';
import { remoteSnapshotPath, removeOnMemberCommand, saveOnMemberCommand } from './snapshot-on-member-commands.js';

/** Removing a member's temporary copy is best-effort and must not hold an interrupted run for long. */
const cleanupTimeoutMs = 15_000;
/** Local temporaries of runs that died more than a day ago go before a new backup (as etcd.snapshot does). */
const staleLocalMs = 24 * 3_600_000;

interface MemberOptions {
  dir: string;
  /** The run's abort signal, as handed to the module's first call step (unset under --dry-run). */
  signal?: AbortSignal;
  etcdctl?: string;
  remoteDir?: string;
  timeoutSeconds: number;
  /** Each member's own client certificate (paths on the member). */
  certsFor: (member: EtcdMember) => MemberClientCerts;
}

type MemberAttempt = { taken: TakenSnapshot } | { failure: string } | { planned: true };

export const etcdSnapshotOnMemberModule = defineModule({
  id: 'etcd.snapshot-on-member',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      // Member names (or hosts) in order of preference, each tried until one delivers; default: etcd.status's candidates.
      members: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      dest_dir: { type: 'string', minLength: 1 },
      // etcdctl on the members (kubeasz: /opt/kube/bin/etcdctl).
      etcdctl: { type: 'string', minLength: 1 },
      // Absolute folder on the members for the temporary copy; default: beside the data dir (same disk, not a tmpfs).
      remote_dir: { type: 'string', pattern: '^/' },
      timeout_seconds: { type: 'number', exclusiveMinimum: 0, maximum: 86400, default: 120 },
    },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const attempt = backupAttempt(ctx);
    const sources = snapshotSources(ctx, args.members);
    const { members } = sources;
    const options: MemberOptions = {
      dir: args.dest_dir ?? backupDir(ctx.inventory),
      timeoutSeconds: args.timeout_seconds,
      certsFor: (member) => memberClientCerts(ctx.state, ctx.inventory, member),
      ...(args.etcdctl ? { etcdctl: args.etcdctl } : {}),
      ...(args.remote_dir ? { remoteDir: args.remote_dir } : {}),
    };
    const [first, ...others] = members;
    if (sources.problem !== undefined && (first !== undefined || !ctx.dryRun)) return failAttempt(attempt, sources.problem);
    if (!first) {
      if (ctx.dryRun) {
        yield* call(`snapshot with etcdctl on the first healthy member (etcd.status) -> ${options.dir}`, false, () => Promise.resolve());
        return { changed: true };
      }
      return failAttempt(attempt, sources.problem ?? 'no member to take a snapshot from');
    }
    const fallback = others.length > 0 ? ` (if that fails: ${others.map((m) => m.name).join(', then ')}, the same way)` : '';
    yield* call(`create ${options.dir} (0700) on the deploy host; snapshot with etcdctl on ${first.name}${fallback}`, false, async (signal) => {
      options.signal = signal;
      await ensureBackupDir(options.dir);
      await removeStaleTemporaries(options.dir, staleLocalMs);
    });
    const failures: string[] = [];
    for (const member of members) {
      const tried = yield* snapshotFromMember(member, options);
      // --dry-run: the first member's steps show what runs; the others run only if it fails.
      if ('planned' in tried) return { changed: true };
      if ('failure' in tried) {
        failures.push(`${member.name}: ${tried.failure}`);
        // Interrupted: this member's copy is gone; starting on the next one would only be stopped.
        if (options.signal?.aborted) break;
        continue;
      }
      const { taken } = tried;
      attempt.taken = taken;
      const after = failures.length > 0 ? ` (after ${failures.join('; ')})` : '';
      const result = {
        partial_path: taken.partialPath,
        bytes: taken.bytes,
        sha256: taken.sha256,
        member: taken.member,
        host: taken.host,
        method: taken.method,
      };
      return { changed: true, msg: `${taken.bytes} bytes from ${member.name} via etcdctl${after}`, result };
    }
    return failAttempt(attempt, `no member gave a snapshot with etcdctl: ${failures.join('; ')}`);
  },
});

/**
 * One member: save, download, and always remove the member's copy. A failed step is thrown in at its
 * yield (the engine does so), so a lost connection or a failed download ends this attempt, not the task.
 */
async function* snapshotFromMember(member: EtcdMember, options: MemberOptions): AsyncGenerator<Step, MemberAttempt, unknown> {
  const host = member.host;
  const remotePath = remoteSnapshotPath(member, options.remoteDir);
  const takenAt = new Date();
  const localPath = partialPathFor(snapshotTempBase(options.dir, takenAt));
  const started = Date.now();
  let stage = `etcdctl snapshot save on ${host}`;
  try {
    const saved = yield* exec(saveOnMemberCommand(member, remotePath, { ...options, certs: options.certsFor(member) }), {
      host,
      timeoutMs: (options.timeoutSeconds + 15) * 1000,
    });
    if (!saved) {
      yield* download({ host, src: remotePath, dest: localPath, mode: 0o600 });
      return { planned: true };
    }
    if (saved.exitCode !== 0) {
      const why = saved.exitCode === 124 ? `etcdctl gave no snapshot within ${options.timeoutSeconds}s (member stopped?)` : execFailure(saved);
      const stderr = saved.stderr.trim() === '' ? '' : `: ${outputTail(saved)}`;
      return { failure: `${stage} failed: ${why}${stderr}` };
    }
    // The transport writes the download under its own temporary name (removed if the copy fails), checks
    // its sha256 against the member's and renames it to `localPath`, itself a temporary name that only
    // etcd.verify promotes.
    stage = `copying ${remotePath} from ${host}`;
    const transfer = yield* download({ host, src: remotePath, dest: localPath, mode: 0o600 });
    if (!transfer) return { failure: `${stage} failed: no result` };
    if (options.signal?.aborted) {
      // Interrupted while the copy ran to its end: the run stops before etcd.verify, so nothing would remove it.
      await rm(localPath, { force: true });
      return { failure: 'interrupted; the copy was removed' };
    }
    return {
      taken: {
        partialPath: localPath,
        bytes: transfer.bytes,
        sha256: transfer.sha256,
        member: member.name,
        host,
        method: 'etcdctl',
        takenAt: takenAt.toISOString(),
        durationMs: Date.now() - started,
      },
    };
  } catch (error) {
    // Not connected (its first step) or the connection lost on the way: the stage says which.
    if (isUnreachable(error)) return { failure: `${stage} failed: ${unreachableReason(error)}` };
    return { failure: `${stage} failed: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    try {
      yield* exec(removeOnMemberCommand(remotePath), { host, timeoutMs: cleanupTimeoutMs, cleanup: true });
    } catch {
      // Best effort (the host may be gone): the next save on this member sweeps what is left.
    }
  }
}

/** By its stable code, not instanceof: under tsx a test can load errors.ts twice (once required, once imported). */
function isUnreachable(error: unknown): error is UnreachableError {
  return (
    error instanceof Error && (error as { code?: unknown }).code === 'host.unreachable' && typeof (error as { host?: unknown }).host === 'string'
  );
}

/** `unreachable over SSH: connection refused by 10.0.0.1:22 (fix: ...)`: the stage already names the host. */
function unreachableReason(error: UnreachableError): string {
  const reason = error.message.startsWith(`${error.host}: `) ? error.message.slice(error.host.length + 2) : error.message;
  return `unreachable over SSH: ${reason}${error.hint ? ` (fix: ${error.hint})` : ''}`;
}
