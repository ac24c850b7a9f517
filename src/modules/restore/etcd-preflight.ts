// `etcd.preflight`: read-only checks on a member before a restore changes anything: a restore tool, free
// disk beside the data dir, TLS files readable with valid certificates, whether a data dir exists.
import { X509Certificate } from 'node:crypto';
import { memberTlsFiles } from '../../config/etcd-vars.js';
import { shellJoin } from '../../shell/quote.js';
import { defineModule } from '../define.js';
import { asExec, booleanSchema, checkStep, toBool } from '../helpers.js';
import { dirExistsCommand, freeDiskCommand, parseDfAvailableKiB, parseTool, toolCommand } from './data-commands.js';
import type { RestoreTool } from './identity.js';
import { isOutcome, memberContext, runIdSchema } from './member-context.js';

export interface EtcdPreflightArgs {
  run_id: string;
  /** Bytes the restore needs beside the data dir; 0 skips the disk check. */
  needed_bytes?: number;
  /** The member restores its own dir (needs etcdutl or etcdctl). Default true. */
  need_tool?: boolean | string;
  certificate_warning_days?: number;
}

export interface CertificateFact {
  file: string;
  subject: string;
  notAfter: string;
  daysLeft: number;
}

export interface EtcdPreflightResult {
  tool?: RestoreTool;
  had_old_data: boolean;
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

export const etcdPreflightModule = defineModule<EtcdPreflightArgs>({
  id: 'etcd.preflight',
  schema: {
    type: 'object',
    properties: {
      run_id: runIdSchema,
      needed_bytes: { type: 'integer', minimum: 0 },
      need_tool: booleanSchema,
      certificate_warning_days: { type: 'integer', minimum: 0 },
    },
    required: ['run_id'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const found = memberContext(ctx, args.run_id);
    if (isOutcome(found)) return found;
    const { member, paths } = found;
    const result: EtcdPreflightResult = { had_old_data: false, certificates: [], problems: [], warnings: [] };
    const problem = (text: string) => result.problems.push(text);

    const tool = asExec(yield checkStep(toolCommand()));
    const parsed = tool?.exitCode === 0 ? parseTool(tool.stdout) : undefined;
    if (parsed) result.tool = parsed;
    else if (tool && toBool(args.need_tool, true))
      problem("neither etcdutl nor etcdctl is on the PATH; install etcd's tools there or use --restore-on deploy-host");

    const data = asExec(yield checkStep(dirExistsCommand(paths.dataDir)));
    result.had_old_data = data?.stdout.trim() === 'yes';

    const needed = args.needed_bytes ?? 0;
    if (needed > 0) {
      const df = asExec(yield checkStep(freeDiskCommand(paths.parentDir)));
      if (df) {
        const free = df.exitCode === 0 ? parseDfAvailableKiB(df.stdout) : undefined;
        if (free === undefined) problem(`cannot read the free space of ${paths.parentDir}: ${df.stderr.trim() || 'no output'}`);
        else {
          result.free_kib = free;
          if (free * 1024 < needed)
            problem(`${paths.parentDir} has ${mib(free * 1024)} free; the restore needs ${mib(needed)} (snapshot copy + restored data + margin)`);
        }
      }
    }

    // The files as the member sees them (kubeasz keeps its copies in ca_dir, not in the cluster folder).
    const tls = memberTlsFiles(member);
    for (const [label, file] of [
      ['CA file', tls.caFile],
      ['certificate', tls.certFile],
    ] as const) {
      if (!file) continue;
      // Certificates are public: read them here and judge them with node's X509 parser (no openssl needed on the host).
      const read = asExec(yield checkStep(shellJoin(['cat', file])));
      if (!read) continue;
      if (read.exitCode !== 0) {
        problem(`the ${label} ${file} is not readable: ${read.stderr.trim() || `exit ${read.exitCode}`}`);
        continue;
      }
      const judged = judgeCertificates(read.stdout, label, file, new Date(), args.certificate_warning_days ?? 7);
      result.certificates.push(...judged.facts);
      result.problems.push(...judged.problems);
      result.warnings.push(...judged.warnings);
    }
    if (tls.keyFile) {
      // The key is never read: only whether etcd can.
      const key = asExec(yield checkStep(shellJoin(['test', '-r', tls.keyFile])));
      if (key && key.exitCode !== 0) problem(`the key file ${tls.keyFile} is missing or unreadable`);
    }
    const failed = result.problems.length > 0;
    return { changed: false, failed, ...(failed ? { msg: result.problems.join('; ') } : {}), result: { ...result } };
  },
});
