// `etcd.diagnose`: what one member's disks say, read-only: whether etcd runs, the data dir, the db's meta
// and revision, consistent index and term (page by page with dd), the WAL (from the segment holding the
// newest raft snapshot to its end, every record's crc checked), and the certificates its unit and the
// inventory name, with their dates. Nothing is written on the member: no copy, no temporary file.
import type { ByteReader } from '../../etcd/diagnose/byte-reader.js';
import { readDbFacts, type DbFacts } from '../../etcd/diagnose/db.js';
import type { CertificateCheck } from '../../etcd/diagnose/member-state.js';
import { decodeRange, listingCommand, parseListing, readRangeCommand, type DataDirListing } from '../../etcd/diagnose/read-commands.js';
import { readWal, type WalFacts } from '../../etcd/diagnose/wal.js';
import type { EtcdSettings } from '../../etcd/members/etcd-flags.js';
import { normalizeDataDir } from '../../etcd/restore/identity.js';
import { shellJoin } from '../../shell/quote.js';
import { defineModule } from '../define.js';
import { check, outputTail } from '../plan-steps.js';
import type { Step } from '../step.js';
import { judgeCertificates } from '../restore/etcd-preflight.js';
import { restoreClusterKey, restoreMembers } from '../restore/restore-state.js';

/** What the module registers (`result.disk`); the command joins it with the member's live answer. */
export interface MemberDiskFacts {
  serviceActive: boolean;
  dataDir: boolean;
  memberDir: boolean;
  db?: DbFacts;
  wal?: WalFacts;
  newestSnap?: { name: string; index: number; term: number };
  certificates: CertificateCheck[];
  lastWrite?: number;
  readErrors: string[];
  /** Round trips and bytes moved, for the benchmark. */
  reads: number;
  bytes: number;
}

class ReadFailure extends Error {}

/** Runs a byte reader over the member: each request is one read-only dd. */
function* overMember<T>(reader: ByteReader<T>, gzip: boolean, counters: { reads: number; bytes: number }): Generator<Step, T, unknown> {
  let step = reader.next();
  while (!step.done) {
    const request = step.value;
    const result = yield* check(readRangeCommand(request, gzip), { timeoutMs: 120_000 });
    if (!result) throw new ReadFailure(`${request.file}: not read (dry run)`);
    if (result.exitCode !== 0) throw new ReadFailure(`${request.file}: ${outputTail(result)}`);
    const data = decodeRange(result.stdout, request, gzip);
    counters.reads++;
    counters.bytes += data.length;
    step = reader.next(data);
  }
  return step.value;
}

/** `<term>-<index>.snap`, 16 hex digits each: the newest raft snapshot, where etcd starts reading the WAL. */
function newestSnap(listing: DataDirListing): MemberDiskFacts['newestSnap'] {
  const parsed = listing.snap
    .map((f) => /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/.exec(f.name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[0], term: Number(BigInt(`0x${m[1] ?? '0'}`)), index: Number(BigInt(`0x${m[2] ?? '0'}`)) }))
    .sort((a, b) => a.index - b.index);
  return parsed.at(-1);
}

/** The certificate files the member's configuration names (etcd.member-config), then the inventory's (the same path is read once). */
function certificateFiles(settings: EtcdSettings | undefined, inventory: { caFile?: string; certFile?: string }): { file: string; role: string }[] {
  const found: { file: string; role: string }[] = [];
  const add = (file: string | undefined, role: string) => {
    if (file && !found.some((f) => f.file === file)) found.push({ file, role });
  };
  add(settings?.certFile, '--cert-file');
  add(settings?.peerCertFile, '--peer-cert-file');
  add(settings?.trustedCaFile, '--trusted-ca-file');
  add(settings?.peerTrustedCaFile, '--peer-trusted-ca-file');
  add(inventory.certFile, 'etcd_cert_file');
  add(inventory.caFile, 'etcd_ca_file');
  return found;
}

function* readCertificates(files: { file: string; role: string }[]): Generator<Step, CertificateCheck[], unknown> {
  const checks: CertificateCheck[] = [];
  const now = new Date();
  for (const { file, role } of files) {
    // Certificates are public: read here, judged on the deploy host (no openssl needed on the member).
    const read = yield* check(shellJoin(['cat', '--', file]));
    if (!read) continue;
    if (read.exitCode !== 0) {
      checks.push({ file, role, problem: `not readable: ${outputTail(read)}` });
      continue;
    }
    const judged = judgeCertificates(read.stdout, role, file, now, 0);
    const fact = judged.facts[0];
    const problem = judged.problems[0];
    checks.push({
      file,
      role,
      ...(fact ? { subject: fact.subject, notAfter: fact.notAfter, daysLeft: fact.daysLeft } : {}),
      ...(problem ? { problem: problem.replace(/ - renew it first$/, '') } : {}),
    });
  }
  return checks;
}

function* readData(listing: DataDirListing, dataDir: string, walDir: string, facts: MemberDiskFacts): Generator<Step, void, unknown> {
  const counters = { reads: 0, bytes: 0 };
  try {
    if (listing.db) facts.db = yield* overMember(readDbFacts(`${dataDir}/member/snap/db`, listing.db.size, listing.db.mtime), listing.gzip, counters);
    const snap = newestSnap(listing);
    if (snap) facts.newestSnap = snap;
    if (listing.wal.length > 0 || listing.memberDir)
      facts.wal = yield* overMember(readWal(walDir, listing.wal, snap?.index ?? 0), listing.gzip, counters);
  } catch (error) {
    if (!(error instanceof ReadFailure)) throw error;
    facts.readErrors.push(error.message);
  } finally {
    facts.reads += counters.reads;
    facts.bytes += counters.bytes;
  }
  const times = [...listing.wal.map((f) => f.mtime), listing.db?.mtime ?? 0];
  if (times.some((t) => t > 0)) facts.lastWrite = Math.max(...times);
}

export const etcdDiagnoseModule = defineModule({
  id: 'etcd.diagnose',
  meta: { runsOn: 'host' },
  schema: { type: 'object', properties: {}, additionalProperties: false },
  async *plan(ctx) {
    // The data and WAL dirs as the member's own configuration says (etcd.member-config ran before), else the inventory's.
    const member = restoreMembers(ctx).find((m) => m.host === ctx.host.name);
    if (!member) return { changed: false, failed: true, msg: `${ctx.host.name} is not in the etcd group` };
    const dataDir = normalizeDataDir(member.dataDir);
    const walDir = member.walDir ? normalizeDataDir(member.walDir) : `${dataDir}/member/wal`;
    const facts: MemberDiskFacts = { serviceActive: false, dataDir: false, memberDir: false, certificates: [], readErrors: [], reads: 0, bytes: 0 };
    const listed = yield* check(listingCommand(member.service, dataDir, walDir));
    if (!listed) return { changed: false, result: { disk: facts } };
    if (listed.exitCode !== 0) facts.readErrors.push(`listing ${dataDir}: ${outputTail(listed)}`);
    const listing = parseListing(listed.stdout, dataDir);
    facts.serviceActive = listing.active;
    facts.dataDir = listing.dataDir;
    facts.memberDir = listing.memberDir;
    yield* readData(listing, dataDir, walDir, facts);
    const config = ctx.state.get(restoreClusterKey).configs.get(member.host);
    // On kubeadm the inventory's certificate is the deploy host's client certificate, not a file of the member.
    const inventoryFiles = config?.topology === 'kubeadm' ? {} : member;
    facts.certificates = yield* readCertificates(certificateFiles(config?.settings, inventoryFiles));
    return { changed: false, result: { disk: facts, data_dir: dataDir, wal_dir: walDir } };
  },
});
