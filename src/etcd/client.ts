// Per-member etcd clients over (m)TLS with a deadline on every call.
// One Etcd3 per member, never one multi-endpoint client: etcd3 picks hosts at random, so a
// multi-endpoint client cannot say which member answered. etcd3's `dialTimeout` is never read,
// so every unary call gets a gRPC deadline and every helper races an outer timer as well.
// etcd3 is imported lazily: it pulls in grpc-js and protobufs, too slow for CLI start-up.
import type { Etcd3, IOptions } from 'etcd3';
import { FileReadError, SMALL_FILE_LIMIT, readBoundedFile } from '../config/bounded-read.js';
import type { EtcdMember } from '../config/types.js';
import { PartialFile, type StreamDigests } from './partial-file.js';
import { verifyWhileReceiving, type SnapshotReport, type VerifyOptions } from './snapshot-file.js';

export interface MemberStatus {
  /** Hex, as etcdctl prints it (e.g. 8e9e05c52164694d). */
  memberId: string;
  clusterId: string;
  /** Member id of the leader this member believes in (hex). */
  leader: string;
  isLeader: boolean;
  isLearner: boolean;
  revision: number;
  /** Bytes of the backend file; `dbSizeInUse` is the part holding live data. */
  dbSize: number;
  dbSizeInUse: number;
  raftTerm: number;
  raftIndex: number;
  /** etcd server version, e.g. 3.4.23. */
  version: string;
  /** Alarms and errors the member reports (NOSPACE, CORRUPT...). */
  errors: string[];
}

export type MemberStatusResult = { ok: true; status: MemberStatus; durationMs: number } | { ok: false; error: string; durationMs: number };

export interface ListedMember {
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export type MemberListResult = { ok: true; clusterId: string; memberId: string; members: ListedMember[] } | { ok: false; error: string };

export interface CallTimeouts {
  /** Deadline for one call, connection included. Default 5 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** int64 fields arrive as decimal strings; ids are shown in hex like etcdctl. */
function hexId(decimal: string | undefined): string {
  if (!decimal) return '0';
  try {
    return BigInt(decimal).toString(16);
  } catch {
    return decimal;
  }
}

function num(value: string | number | undefined): number {
  return value === undefined ? 0 : Number(value);
}

export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return describeEtcdError(message.split('\n')[0] ?? message);
}

/** gRPC's messages, shortened to what an operator needs ("14 UNAVAILABLE: No connection established.
 *  Last error: Error: connect ECONNREFUSED 10.0.0.1:2379. Resolution note: " -> "connection refused ..."). */
export function describeEtcdError(message: string): string {
  const refused = /connect ECONNREFUSED (\S+?)\.?(\s|$)/.exec(message);
  if (refused) return `connection refused at ${refused[1]} (etcd not running, or not listening there)`;
  if (/EHOSTUNREACH|ENETUNREACH/.test(message)) return 'host unreachable';
  if (/ETIMEDOUT|DEADLINE_EXCEEDED|Deadline exceeded/i.test(message)) return 'no answer before the deadline';
  const cert = /(certificate[^.;]*|self[- ]signed[^.;]*|unable to verify[^.;]*|ERR_TLS[^.;]*)/i.exec(message);
  if (cert) return `TLS: ${cert[1]} (check etcd_ca_file, etcd_cert_file, etcd_key_file)`;
  return message.replace(/\s*Resolution note:\s*$/, '').trim();
}

async function withTimeout<T>(what: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Read the TLS files named by the member (from the deploy host); none for an http:// URL. */
export async function credentialsFor(member: EtcdMember): Promise<IOptions['credentials']> {
  if (!member.clientUrl.startsWith('https://')) return undefined;
  if (!member.caFile) throw new Error(`member ${member.name}: ${member.clientUrl} is https but no CA file is set (etcd_ca_file / ca_dir)`);
  const read = async (label: string, file: string) => {
    try {
      return await readBoundedFile(file, SMALL_FILE_LIMIT);
    } catch (error) {
      throw new Error(
        `member ${member.name}: cannot read the ${label} ${file} on the deploy host: ${error instanceof FileReadError ? error.reason : errorText(error)}`,
      );
    }
  };
  const rootCertificate = await read('CA certificate', member.caFile);
  if (Boolean(member.certFile) !== Boolean(member.keyFile)) {
    throw new Error(`member ${member.name}: a client certificate needs both certFile and keyFile`);
  }
  if (member.certFile && member.keyFile) {
    return { rootCertificate, certChain: await read('client certificate', member.certFile), privateKey: await read('client key', member.keyFile) };
  }
  return { rootCertificate };
}

let warningFilterInstalled = false;
/** grpc-js passes the IP of an https://IP:port endpoint as the TLS server name, which makes Node print
 *  DEP0123 on every connection (kubeasz endpoints are IPs). Certificates are still checked against the
 *  IP SANs; only that one warning is dropped. */
export function silenceIpServernameWarning(): void {
  if (warningFilterInstalled) return;
  warningFilterInstalled = true;
  const original = process.emitWarning.bind(process);
  process.emitWarning = (warning: string | Error, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { code?: string }).code : rest[1];
    if (code === 'DEP0123') return;
    (original as (...args: unknown[]) => void)(warning, ...rest);
  };
}

type FaultPolicy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/** A policy that runs the call once: no retries on other attempts, no circuit breaker. Our callers
 *  decide what to do with a failed member (skip it, try the next) within their own time budget. */
export function runOncePolicy(): FaultPolicy {
  const noEvent = () => ({ dispose: () => undefined });
  const policy = {
    onSuccess: noEvent,
    onFailure: noEvent,
    execute: async <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal) =>
      fn({ signal: signal ?? new AbortController().signal }),
  };
  return policy as unknown as FaultPolicy;
}

/** One client for one member. Close it when done (it holds a gRPC channel). */
export class EtcdMemberClient {
  private constructor(
    readonly member: EtcdMember,
    private readonly client: Etcd3,
    private readonly timeoutMs: number,
  ) {}

  static async open(member: EtcdMember, options: CallTimeouts = {}): Promise<EtcdMemberClient> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const credentials = await credentialsFor(member);
    const { Etcd3: Etcd3Class } = await import('etcd3');
    silenceIpServernameWarning();
    const client = new Etcd3Class({
      hosts: member.clientUrl,
      ...(credentials ? { credentials } : {}),
      // Unary calls get the deadline; streams get theirs from the caller.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      faultHandling: { host: () => runOncePolicy(), global: runOncePolicy() },
      grpcOptions: {
        // Fail fast on a refused connection instead of backing off for seconds.
        'grpc.initial_reconnect_backoff_ms': 200,
        'grpc.max_reconnect_backoff_ms': 1000,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        // grpc-js keeps HTTP/2's 64 KiB default window: the member then waits for a WINDOW_UPDATE every
        // 64 KiB and a 1 GB snapshot takes ~2x longer (measured). 8 MiB keeps it streaming.
        'grpc-node.flow_control_window': 8 * 1024 * 1024,
      },
    });
    return new EtcdMemberClient(member, client, timeoutMs);
  }

  async status(): Promise<MemberStatus> {
    const response = await withTimeout(`${this.member.name} status`, this.timeoutMs + 1_000, this.client.maintenance.status());
    const memberId = hexId(response.header.member_id);
    const leader = hexId(response.leader);
    // etcd3 loads its protos with `defaults: true`: fields an older etcd leaves out arrive as false / [].
    return {
      memberId,
      clusterId: hexId(response.header.cluster_id),
      leader,
      isLeader: leader === memberId && leader !== '0',
      isLearner: response.isLearner,
      revision: num(response.header.revision),
      dbSize: num(response.dbSize),
      dbSizeInUse: num(response.dbSizeInUse),
      raftTerm: num(response.raftTerm),
      raftIndex: num(response.raftIndex),
      version: response.version,
      errors: response.errors,
    };
  }

  async memberList(): Promise<{ clusterId: string; memberId: string; members: ListedMember[] }> {
    const response = await withTimeout(`${this.member.name} member list`, this.timeoutMs + 1_000, this.client.cluster.memberList({}));
    return {
      clusterId: hexId(response.header.cluster_id),
      memberId: hexId(response.header.member_id),
      members: response.members.map((m) => ({
        id: hexId(m.ID),
        name: m.name,
        peerUrls: m.peerURLs,
        clientUrls: m.clientURLs,
        isLearner: m.isLearner,
      })),
    };
  }

  /** The raw gRPC stream of Maintenance.Snapshot (messages with `blob` and `remaining_bytes`). */
  async snapshotStream(deadline: number): Promise<SnapshotMessageStream> {
    const stream = await this.client.maintenance.snapshot({ deadline });
    return stream as unknown as SnapshotMessageStream;
  }

  close(): void {
    this.client.close();
  }
}

/** What etcd3's snapshot stream really is: a grpc-js object-mode Readable with cancel(). */
export interface SnapshotMessageStream extends AsyncIterable<{ blob: Buffer; remaining_bytes: string }> {
  cancel(): void;
  destroy(error?: Error): void;
  on(event: 'error', listener: (error: Error) => void): this;
}

async function withClient<T>(member: EtcdMember, options: CallTimeouts, use: (client: EtcdMemberClient) => Promise<T>): Promise<T> {
  const client = await EtcdMemberClient.open(member, options);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** Status of one member within `timeoutMs`; a stopped or silent member is an `ok: false` result, not a hang. */
export async function memberStatus(member: EtcdMember, options: CallTimeouts = {}): Promise<MemberStatusResult> {
  const started = Date.now();
  try {
    const status = await withClient(member, options, (client) => client.status());
    return { ok: true, status, durationMs: Date.now() - started };
  } catch (error) {
    return { ok: false, error: errorText(error), durationMs: Date.now() - started };
  }
}

export interface MemberHealth {
  member: EtcdMember;
  result: MemberStatusResult;
}

/** Status of every member, in parallel, each with its own deadline. Order follows `members`. */
export async function clusterStatus(members: readonly EtcdMember[], options: CallTimeouts = {}): Promise<MemberHealth[]> {
  return Promise.all(members.map(async (member) => ({ member, result: await memberStatus(member, options) })));
}

export async function memberList(member: EtcdMember, options: CallTimeouts = {}): Promise<MemberListResult> {
  try {
    return { ok: true, ...(await withClient(member, options, (client) => client.memberList())) };
  } catch (error) {
    return { ok: false, error: `${member.name} (${member.clientUrl}): ${errorText(error)}` };
  }
}

/**
 * Members to take a snapshot from, in order: healthy followers first (leaves the leader alone), then
 * the leader. Members that failed, are learners, report alarms (NOSPACE, CORRUPT) or see no leader
 * are left out.
 */
export function chooseSnapshotOrder(health: readonly MemberHealth[]): MemberHealth[] {
  const healthy = health.filter(
    (h) => h.result.ok && !h.result.status.isLearner && h.result.status.errors.length === 0 && h.result.status.leader !== '0',
  );
  const isLeader = (h: MemberHealth) => h.result.ok && h.result.status.isLeader;
  return [...healthy.filter((h) => !isLeader(h)), ...healthy.filter(isLeader)];
}

/** The preferred member to take a snapshot from, if any is healthy. */
export function chooseSnapshotMember(health: readonly MemberHealth[]): MemberHealth | undefined {
  return chooseSnapshotOrder(health)[0];
}

export interface StreamSnapshotOptions {
  /** Give up when no data arrived for this long (also covers the first byte). Default 30 s. */
  idleTimeoutMs?: number;
  /** Give up after this long in total. Default 1 h. */
  totalTimeoutMs?: number;
  /** Connection/unary deadline. Default 5 s. */
  timeoutMs?: number;
  /** Verify while receiving: the bbolt walk follows the writer, so the check is nearly done when the
   *  last byte lands (the result is in `report`). */
  verify?: boolean | Omit<VerifyOptions, 'digests' | 'signal'>;
  signal?: AbortSignal;
}

/**
 * A snapshot written to a temporary `<dest>.partial-<random>` file, fsynced, not yet at a final name.
 * The caller verifies `partialPath` and then calls `commit` (rename + directory fsync) or `discard`.
 */
export interface PartialSnapshot {
  partialPath: string;
  bytes: number;
  /** sha256 of the whole file, computed while streaming. */
  sha256: string;
  /** Pass to verifySnapshotFile so it need not hash the file again. */
  digests: StreamDigests;
  member: string;
  durationMs: number;
  /** Present when `verify` was asked for. */
  report?: SnapshotReport;
  commit(finalPath: string): Promise<string>;
  discard(): Promise<void>;
}

export type StreamSnapshotResult = { ok: true; snapshot: PartialSnapshot } | { ok: false; error: string };

/**
 * Stream Maintenance.Snapshot from one member to `<dest>.partial-<random>` (mode 0600, created
 * exclusively), with an idle and a total deadline, then fsync. On any failure (member down, timeout,
 * full disk, interruption) the partial file is removed and `ok: false` returned; nothing is ever
 * left at `dest` or any other final name: only `commit` renames, after the caller verified the file.
 */
export async function streamSnapshot(member: EtcdMember, dest: string, options: StreamSnapshotOptions = {}): Promise<StreamSnapshotResult> {
  const started = Date.now();
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const totalTimeoutMs = options.totalTimeoutMs ?? 3_600_000;
  let client: EtcdMemberClient | undefined;
  let file: PartialFile | undefined;
  let stream: SnapshotMessageStream | undefined;
  let failure: string | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  const fail = (message: string) => {
    failure ??= message;
    stream?.cancel();
  };
  const armIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => fail(`no data from ${member.name} for ${idleTimeoutMs} ms`), idleTimeoutMs);
  };
  const onAbort = () => fail('interrupted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const totalTimer = setTimeout(() => fail(`snapshot from ${member.name} took longer than ${totalTimeoutMs} ms`), totalTimeoutMs);
  // The concurrent verification waits on `finished` for the digests (or the failure).
  let settle!: { resolve: (digests: StreamDigests) => void; reject: (error: Error) => void };
  const finished = new Promise<StreamDigests>((resolve, reject) => (settle = { resolve, reject }));
  finished.catch(() => undefined);
  let verifying: Promise<SnapshotReport | Error> | undefined;
  try {
    if (options.signal?.aborted) throw new Error('interrupted');
    client = await EtcdMemberClient.open(member, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {});
    file = await PartialFile.create(dest);
    if (options.verify) {
      const verifyOptions: VerifyOptions = {
        ...(typeof options.verify === 'object' ? options.verify : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      };
      verifying = verifyWhileReceiving(file, finished, verifyOptions).catch((error: unknown) =>
        error instanceof Error ? error : new Error(String(error)),
      );
    }
    armIdle();
    stream = await client.snapshotStream(Date.now() + totalTimeoutMs);
    stream.on('error', (error) => fail(errorText(error)));
    // Async iteration pulls one message at a time: the next chunk is read from gRPC only after
    // this one is buffered or on disk, so memory stays flat whatever the snapshot size.
    for await (const message of stream) {
      if (failure) break;
      armIdle();
      if (message.blob.length > 0) await file.append(message.blob);
    }
    if (failure) throw new Error(failure);
    if (file.bytes === 0) throw new Error(`${member.name} sent an empty snapshot`);
    const digests = await file.finish();
    settle.resolve(digests);
    const report = verifying ? await verifying : undefined;
    if (report instanceof Error) throw report;
    const partial = file;
    return {
      ok: true,
      snapshot: {
        partialPath: partial.path,
        bytes: digests.bytes,
        sha256: digests.sha256,
        digests,
        member: member.name,
        durationMs: Date.now() - started,
        ...(report ? { report } : {}),
        commit: (finalPath) => partial.commit(finalPath),
        discard: () => partial.discard(),
      },
    };
  } catch (error) {
    const message = failure ?? errorText(error);
    settle.reject(new Error(message));
    await file?.discard().catch(() => undefined);
    await verifying;
    return { ok: false, error: `snapshot from ${member.name} (${member.clientUrl}) failed: ${message}` };
  } finally {
    clearTimeout(idleTimer);
    clearTimeout(totalTimer);
    options.signal?.removeEventListener('abort', onAbort);
    client?.close();
  }
}
