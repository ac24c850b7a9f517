// Read-only checks on every member before anything changes: a restore tool, free disk beside the data dir,
// TLS files readable and certificates valid (the power-cut story ended in expired certificates), and
// whether a data dir exists (it will be moved aside, never deleted).
import { X509Certificate } from 'node:crypto';
import type { EtcdMember } from '../config/types.js';
import { shellJoin } from '../shell/quote.js';
import type { ExecResult } from '../transport/types.js';
import { dirExistsCommand, freeDiskCommand, parseDfAvailableKiB, parseTool, toolCommand } from '../modules/restore/data-commands.js';
import type { RestoreTool } from '../modules/restore/identity.js';
import type { MemberRestorePaths } from '../modules/restore/paths.js';

export type RunReadOnly = (host: string, command: string) => Promise<ExecResult>;

export interface MemberFacts {
  host: string;
  tool?: RestoreTool;
  hadOldData: boolean;
  freeKiB?: number;
  certificates: { file: string; notAfter: string; daysLeft: number }[];
}

export interface PreflightResult {
  facts: Map<string, MemberFacts>;
  /** Each one refuses the restore. */
  problems: string[];
  warnings: string[];
}

export interface PreflightOptions {
  members: readonly EtcdMember[];
  paths: ReadonlyMap<string, MemberRestorePaths>;
  /** Bytes each member needs beside its data dir; 0 skips the disk check (a resumed run past the restore). */
  neededBytes: (host: string) => number;
  /** Members restore themselves (need etcdutl/etcdctl); false when the deploy host restores for them. */
  needToolOnMembers: boolean;
  run: RunReadOnly;
  now?: Date;
  /** Warn when a certificate expires within this many days. Default 7. */
  certificateWarningDays?: number;
}

/** Bytes a restore needs beside the data dir: the snapshot (or archive) copy plus the restored data, with a margin. */
export function bytesNeededFor(snapshotBytes: number): number {
  return 2 * snapshotBytes + 64 * 1024 * 1024;
}

const mib = (bytes: number): string => `${Math.ceil(bytes / 1024 / 1024)} MiB`;

/** Every certificate in a PEM file (a CA bundle may hold several). */
export function certificatesIn(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

export async function runPreflight(options: PreflightOptions): Promise<PreflightResult> {
  const now = options.now ?? new Date();
  const warnDays = options.certificateWarningDays ?? 7;
  const problems: string[] = [];
  const warnings: string[] = [];
  const facts = new Map<string, MemberFacts>();

  await Promise.all(
    options.members.map(async (member) => {
      const paths = options.paths.get(member.host);
      if (!paths) throw new Error(`no restore paths for ${member.host}`);
      const who = `${member.name} (${member.host})`;
      const fact: MemberFacts = { host: member.host, hadOldData: false, certificates: [] };
      facts.set(member.host, fact);
      const run = async (command: string): Promise<ExecResult | undefined> => {
        try {
          return await options.run(member.host, command);
        } catch (error) {
          problems.push(`${who}: cannot run a check: ${(error as Error).message}`);
          return undefined;
        }
      };

      const tool = await run(toolCommand());
      if (tool) {
        const found = tool.exitCode === 0 ? parseTool(tool.stdout) : undefined;
        if (found) fact.tool = found;
        else if (options.needToolOnMembers) problems.push(`${who}: neither etcdutl nor etcdctl is on the PATH; install etcd's tools there or use --restore-on deploy-host`);
      }

      const data = await run(dirExistsCommand(paths.dataDir));
      fact.hadOldData = data?.stdout.trim() === 'yes';

      const needed = options.neededBytes(member.host);
      if (needed > 0) {
        const df = await run(freeDiskCommand(paths.parentDir));
        const free = df && df.exitCode === 0 ? parseDfAvailableKiB(df.stdout) : undefined;
        if (free === undefined) problems.push(`${who}: cannot read the free space of ${paths.parentDir}: ${df?.stderr.trim() || 'no output'}`);
        else {
          fact.freeKiB = free;
          if (free * 1024 < needed) problems.push(`${who}: ${paths.parentDir} has ${mib(free * 1024)} free; the restore needs ${mib(needed)} (snapshot copy + restored data + margin)`);
        }
      }

      for (const [label, file] of [['CA file', member.caFile], ['certificate', member.certFile]] as const) {
        if (!file) continue;
        const read = await run(shellJoin(['cat', file]));
        if (!read) continue;
        if (read.exitCode !== 0) {
          problems.push(`${who}: the ${label} ${file} is not readable: ${read.stderr.trim() || `exit ${read.exitCode}`}`);
          continue;
        }
        let certificates: X509Certificate[];
        try {
          certificates = certificatesIn(read.stdout);
        } catch (error) {
          problems.push(`${who}: the ${label} ${file} is not a valid PEM certificate: ${(error as Error).message}`);
          continue;
        }
        if (certificates.length === 0) problems.push(`${who}: the ${label} ${file} holds no PEM certificate`);
        for (const certificate of certificates) {
          const notAfter = new Date(certificate.validTo);
          const notBefore = new Date(certificate.validFrom);
          const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
          fact.certificates.push({ file, notAfter: notAfter.toISOString(), daysLeft });
          const subject = certificate.subject.replace(/\n/g, ', ');
          if (notAfter <= now) problems.push(`${who}: the ${label} ${file} (${subject}) expired on ${notAfter.toISOString()}; etcd will not start with it - renew it first`);
          else if (notBefore > now) problems.push(`${who}: the ${label} ${file} (${subject}) is not valid before ${notBefore.toISOString()}; check the clocks`);
          else if (daysLeft < warnDays) warnings.push(`${who}: the ${label} ${file} expires in ${daysLeft} day(s) (${notAfter.toISOString()})`);
        }
      }
      if (member.keyFile) {
        const key = await run(shellJoin(['test', '-r', member.keyFile]));
        if (key && key.exitCode !== 0) problems.push(`${who}: the key file ${member.keyFile} is missing or unreadable`);
      }
    }),
  );
  // Stable order for output: inventory order.
  const order = new Map(options.members.map((m, i) => [m.host, i]));
  const sortByHost = (list: string[]) => list.sort((a, b) => (order.get(hostOf(a, options.members)) ?? 0) - (order.get(hostOf(b, options.members)) ?? 0));
  return { facts, problems: sortByHost(problems), warnings: sortByHost(warnings) };
}

function hostOf(message: string, members: readonly EtcdMember[]): string {
  return members.find((m) => message.startsWith(`${m.name} (${m.host})`))?.host ?? '';
}
