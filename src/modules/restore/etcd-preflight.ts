// `etcd.preflight`: read-only checks on a member before a restore changes anything: a restore tool (and
// whether it can bump revisions), whether the data dir (and a WAL dir kept apart) are mount points, free
// disk on each filesystem the restore writes to, the member's certificates and their dates, whether a data
// dir exists, and on kubeadm hosts that kubelet runs and crictl answers.
import { X509Certificate } from 'node:crypto';
import { posix } from 'node:path';
import { memberTlsFiles } from '../../config/etcd-vars.js';
import type { EtcdMember } from '../../config/types.js';
import type { EtcdSettings } from '../../etcd/members/etcd-flags.js';
import {
  bumpRevisionCommand,
  dirExistsCommand,
  freeDiskCommand,
  kubeletProbeCommand,
  mountPointCommand,
  parseDfAvailableKiB,
  parseTool,
  toolCommand,
} from '../../etcd/restore/data-commands.js';
import type { RestoreTool } from '../../etcd/restore/identity.js';
import type { MemberRestorePaths, SwapMode } from '../../etcd/restore/paths.js';
import { shellJoin } from '../../shell/quote.js';
import { defineModule } from '../define.js';
import { booleanSchema, toBool } from '../helpers.js';
import { check } from '../plan-steps.js';
import type { Step } from '../step.js';
import { isOutcome, memberContext, runIdSchema } from './member-context.js';
import { hostTopology, restoreClusterKey, type MemberLayout } from './restore-state.js';

export interface CertificateFact {
  file: string;
  subject: string;
  notAfter: string;
  daysLeft: number;
}

export interface EtcdPreflightResult {
  tool?: RestoreTool;
  /** etcdutl can restore with --bump-revision (etcd 3.5.10+). */
  can_bump_revision?: boolean;
  had_old_data: boolean;
  swap_mode?: SwapMode;
  wal_swap_mode?: SwapMode;
  free_kib?: number;
  certificates: CertificateFact[];
  problems: string[];
  warnings: string[];
}

/** Every certificate in a PEM text (a CA bundle may hold several), judged at `now`. */
export function judgeCertificates(
  pem: string,
  label: string,
  file: string,
  now: Date,
  warnDays: number,
): { facts: CertificateFact[]; problems: string[]; warnings: string[] } {
  const facts: CertificateFact[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) problems.push(`the ${label} ${file} holds no PEM certificate`);
  for (const block of blocks) {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block);
    } catch (error) {
      problems.push(`the ${label} ${file} is not a valid certificate: ${(error as Error).message}`);
      continue;
    }
    const notAfter = new Date(certificate.validTo);
    const notBefore = new Date(certificate.validFrom);
    const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
    const subject = certificate.subject.replace(/\n/g, ', ');
    facts.push({ file, subject, notAfter: notAfter.toISOString(), daysLeft });
    if (notAfter <= now)
      problems.push(`the ${label} ${file} (${subject}) expired on ${notAfter.toISOString()}; etcd will not start with it - renew it first`);
    else if (notBefore > now) problems.push(`the ${label} ${file} (${subject}) is not valid before ${notBefore.toISOString()}; check the clocks`);
    else if (daysLeft < warnDays) warnings.push(`the ${label} ${file} (${subject}) expires in ${daysLeft} day(s), on ${notAfter.toISOString()}`);
  }
  return { facts, problems, warnings };
}

const mib = (bytes: number): string => `${Math.ceil(bytes / 1048576)} MiB`;

export const etcdPreflightModule = defineModule({
  id: 'etcd.preflight',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      run_id: runIdSchema,
      // The snapshot's size: the copy and the restored data need about that each; 0 skips the disk checks.
      snapshot_bytes: { type: 'integer', minimum: 0, default: 0 },
      need_tool: booleanSchema,
      certificate_warning_days: { type: 'integer', minimum: 0, default: 7 },
    },
    required: ['run_id'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const found = memberContext(ctx, args.run_id);
    if (isOutcome(found)) return found;
    const { member } = found;
    const result: EtcdPreflightResult = { had_old_data: false, certificates: [], problems: [], warnings: [] };
    const layout = yield* readLayout(member.dataDir, member.walDir);
    ctx.state.get(restoreClusterKey).layouts.set(member.host, layout);
    const relocated = memberContext(ctx, args.run_id);
    const paths = isOutcome(relocated) ? found.paths : relocated.paths;
    result.swap_mode = layout.mode;
    if (layout.walMode) result.wal_swap_mode = layout.walMode;
    yield* checkTool(result, toBool(args.need_tool, true));
    const data = yield* check(dirExistsCommand(paths.data.live));
    result.had_old_data = data?.stdout.trim() === 'yes';
    if (args.snapshot_bytes > 0) yield* checkSpace(result, paths, args.snapshot_bytes);
    const config = ctx.state.get(restoreClusterKey).configs.get(member.host);
    yield* checkCertificates(result, certificateFiles(member, config?.settings), args.certificate_warning_days);
    if (hostTopology(ctx) === 'kubeadm') yield* checkKubelet(result);
    const failed = result.problems.length > 0;
    return { changed: false, failed, ...(failed ? { msg: result.problems.join('; ') } : {}), result: { ...result } };
  },
});

/** Whether the data dir (and a WAL dir kept apart) are mount points: those are swapped inside, not renamed. */
function* readLayout(dataDir: string, walDir: string | undefined): Generator<Step, MemberLayout, unknown> {
  const data = yield* check(mountPointCommand(dataDir));
  const layout: MemberLayout = { mode: data?.stdout.trim() === 'mount' ? 'inside' : 'rename' };
  if (walDir !== undefined) {
    const wal = yield* check(mountPointCommand(walDir));
    layout.walMode = wal?.stdout.trim() === 'mount' ? 'inside' : 'rename';
  }
  return layout;
}

/** The restore tool, and whether it can bump revisions (etcd 3.5.10+'s etcdutl). */
function* checkTool(result: EtcdPreflightResult, needed: boolean): Generator<Step, void, unknown> {
  const tool = yield* check(toolCommand());
  const parsed = tool?.exitCode === 0 ? parseTool(tool.stdout) : undefined;
  if (parsed) result.tool = parsed;
  else if (tool && needed)
    result.problems.push("neither etcdutl nor etcdctl is on the PATH; install etcd's tools there or use --restore-on deploy-host");
  if (parsed !== 'etcdutl') return;
  const help = yield* check(bumpRevisionCommand());
  result.can_bump_revision = help?.stdout.trim() === 'yes';
}

/** Free space on each filesystem the restore writes to: the snapshot copy beside the data dir, the restored data where it will live. */
function* checkSpace(result: EtcdPreflightResult, paths: MemberRestorePaths, snapshotBytes: number): Generator<Step, void, unknown> {
  const margin = 64 * 1024 * 1024;
  const needs =
    paths.mode === 'rename'
      ? [{ dir: paths.parentDir, bytes: 2 * snapshotBytes + margin, what: 'snapshot copy + restored data + margin' }]
      : [
          { dir: paths.parentDir, bytes: snapshotBytes, what: 'snapshot copy' },
          { dir: paths.dataDir, bytes: snapshotBytes + margin, what: 'restored data + margin, inside the mount' },
        ];
  if (paths.wal) needs.push({ dir: paths.wal.mode === 'rename' ? posix.dirname(paths.wal.dir) : paths.wal.dir, bytes: margin, what: 'restored WAL' });
  for (const need of needs) {
    const df = yield* check(freeDiskCommand(need.dir));
    if (!df) continue;
    const free = df.exitCode === 0 ? parseDfAvailableKiB(df.stdout) : undefined;
    if (free === undefined) {
      result.problems.push(`cannot read the free space of ${need.dir}: ${df.stderr.trim() || 'no output'}`);
      continue;
    }
    result.free_kib = Math.min(result.free_kib ?? free, free);
    if (free * 1024 < need.bytes)
      result.problems.push(`${need.dir} has ${mib(free * 1024)} free; the restore needs ${mib(need.bytes)} there (${need.what})`);
  }
}

interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * The member's own certificates (what etcd needs to start) and the inventory's (what the restore's
 * own etcdctl calls present), each file once: either one expired stops the restore.
 */
function certificateFiles(member: EtcdMember, settings: EtcdSettings | undefined): TlsFiles[] {
  // The files as the member sees them (kubeasz keeps its copies in ca_dir, not in the cluster folder).
  const tls = memberTlsFiles(member);
  const own: TlsFiles = compact({
    ca: settings?.trustedCaFile ?? tls.caFile,
    cert: settings?.certFile ?? tls.certFile,
    key: settings?.keyFile ?? tls.keyFile,
  });
  const client: TlsFiles = compact({
    ca: tls.caFile === own.ca ? undefined : tls.caFile,
    cert: tls.certFile === own.cert ? undefined : tls.certFile,
    key: tls.keyFile === own.key ? undefined : tls.keyFile,
  });
  return Object.keys(client).length > 0 ? [own, client] : [own];
}

function compact(files: Record<keyof TlsFiles, string | undefined>): TlsFiles {
  return Object.fromEntries(Object.entries(files).filter(([, v]) => v));
}

function* checkCertificates(result: EtcdPreflightResult, sets: TlsFiles[], warnDays: number): Generator<Step, void, unknown> {
  for (const files of sets) yield* checkCertificateSet(result, files, warnDays);
}

function* checkCertificateSet(result: EtcdPreflightResult, files: TlsFiles, warnDays: number): Generator<Step, void, unknown> {
  for (const [label, file] of [
    ['CA file', files.ca],
    ['certificate', files.cert],
  ] as const) {
    if (!file) continue;
    // Certificates are public: read them here and judge them with node's X509 parser (no openssl needed on the host).
    const read = yield* check(shellJoin(['cat', '--', file]));
    if (!read) continue;
    if (read.exitCode !== 0) {
      result.problems.push(`the ${label} ${file} is not readable: ${read.stderr.trim() || `exit ${read.exitCode}`}`);
      continue;
    }
    const judged = judgeCertificates(read.stdout, label, file, new Date(), warnDays);
    result.certificates.push(...judged.facts);
    result.problems.push(...judged.problems);
    result.warnings.push(...judged.warnings);
  }
  if (files.key) {
    // The key is never read: only whether etcd can.
    const key = yield* check(shellJoin(['test', '-r', files.key]));
    if (key && key.exitCode !== 0) result.problems.push(`the key file ${files.key} is missing or unreadable`);
  }
}

/** kubeadm: kubelet must run (it stops and starts the static pods) and crictl must answer (it shows them). */
function* checkKubelet(result: EtcdPreflightResult): Generator<Step, void, unknown> {
  const probe = yield* check(kubeletProbeCommand());
  if (!probe) return;
  const out = probe.stdout;
  if (!out.includes('kubelet active'))
    result.problems.push('kubelet is not active: it is what stops and starts the static pods; start it first (systemctl start kubelet)');
  if (!out.includes('crictl ok'))
    result.problems.push(
      'crictl does not answer: it is needed to see the static pods stop and start; install it, or point /etc/crictl.yaml at the container runtime',
    );
}
