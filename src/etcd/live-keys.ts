// Reads the keys of a live etcd cluster in key order, a page at a time, every call with a deadline (etcd3
// never reads its dialTimeout). All pages are read at one pinned revision, so the listing is one consistent
// view even while the cluster keeps writing. Keys-only by default: the live side of a diff needs names and
// revisions, not the values (which hold every Secret).
import type { Etcd3 } from 'etcd3';
import type { EtcdMember } from '../config/types.js';
import { crc32cUpdate } from './crc32c.js';
import { credentialsFor, errorText, runOncePolicy, silenceIpServernameWarning } from './client.js';

export interface LiveKey {
  /** latin1: one char per byte, so string order is etcd's byte order. */
  key: string;
  createRevision: number;
  modRevision: number;
  version: number;
  /** With values only. */
  valueSize?: number;
  valueCrc?: number;
}

export interface LiveReadOptions {
  /** Deadline of each call, connection included. Default 5 s. */
  timeoutMs?: number;
  /** Read at this revision instead of the member's current one. */
  revision?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const KEYS_PAGE = 10_000;
const VALUES_PAGE = 1_000;
/** Pages with values are kept around this size: big enough to be fast, small enough for any value sizes. */
const VALUES_PAGE_BYTES = 8 * 1024 * 1024;

/** The end of the range of every key starting with `prefix` (etcd's `--prefix`); '\0' for "to the end". */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] ?? 0) < 0xff) {
      end[i] = (end[i] ?? 0) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

async function openClient(member: EtcdMember, timeoutMs: number): Promise<Etcd3> {
  const credentials = await credentialsFor(member);
  const { Etcd3: Etcd3Class } = await import('etcd3');
  silenceIpServernameWarning();
  return new Etcd3Class({
    hosts: member.clientUrl,
    ...(credentials ? { credentials } : {}),
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    faultHandling: { host: () => runOncePolicy(), global: runOncePolicy() },
    grpcOptions: {
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.max_receive_message_length': 128 * 1024 * 1024,
      'grpc-node.flow_control_window': 8 * 1024 * 1024,
    },
  });
}

/** A key of a range response (int64 fields arrive as strings). */
function liveKeyOf(kv: { key: Buffer; create_revision: string; mod_revision: string; version: string }): LiveKey {
  return {
    key: kv.key.toString('latin1'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
  };
}

/** Races `work` against a timer: a call that ignores its gRPC deadline still ends. */
async function bounded<T>(what: string, timeoutMs: number, work: Promise<T>): Promise<T> {
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

/** One member's keys at one revision. Close it when done. */
export class LiveKeyReader {
  private constructor(
    readonly member: EtcdMember,
    /** The revision every read is pinned to. */
    readonly revision: number,
    private readonly client: Etcd3,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Connects to the first member (in the given order) that answers a status call within the deadline.
   * Throws, naming every member and why, when none does.
   */
  static async connect(members: readonly EtcdMember[], options: LiveReadOptions = {}): Promise<LiveKeyReader> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const failures: string[] = [];
    for (const member of members) {
      options.signal?.throwIfAborted();
      let client: Etcd3 | undefined;
      try {
        client = await openClient(member, timeoutMs);
        const status = await bounded(`${member.name} status`, timeoutMs + 1_000, client.maintenance.status());
        return new LiveKeyReader(member, options.revision ?? Number(status.header.revision), client, timeoutMs);
      } catch (error) {
        client?.close();
        failures.push(`${member.name} (${member.clientUrl}): ${errorText(error)}`);
      }
    }
    throw new Error(`no etcd member answered: ${failures.join('; ')}`);
  }

  private async range(request: Record<string, unknown>) {
    try {
      return await bounded(
        `${this.member.name} range`,
        this.timeoutMs + 1_000,
        this.client.kv.range({ ...request, revision: this.revision }, { deadline: Date.now() + this.timeoutMs }),
      );
    } catch (error) {
      const text = errorText(error);
      if (/compacted/i.test(text)) throw new Error(`the cluster compacted revision ${this.revision} while it was being read (${text}); run again`);
      throw new Error(`reading keys from ${this.member.name} (${this.member.clientUrl}) failed: ${text}`);
    }
  }

  /** Every key under `prefix` (all keys when empty), in key order. */
  async *keys(options: { prefix?: string; withValues?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<LiveKey> {
    const prefix = Buffer.from(options.prefix ?? '', 'latin1');
    const end = prefix.length === 0 ? Buffer.from([0]) : prefixRangeEnd(prefix);
    let start = prefix.length === 0 ? Buffer.from([0]) : prefix;
    let limit = options.withValues ? VALUES_PAGE : KEYS_PAGE;
    for (;;) {
      options.signal?.throwIfAborted();
      const response = await this.range({ key: start, range_end: end, limit, keys_only: !options.withValues });
      let bytes = 0;
      for (const kv of response.kvs) {
        const item = liveKeyOf(kv);
        if (options.withValues) {
          item.valueSize = kv.value.length;
          item.valueCrc = kv.value.length > 0 ? crc32cUpdate(0, kv.value) : 0;
          bytes += kv.value.length + kv.key.length;
        }
        yield item;
      }
      const last = response.kvs.at(-1);
      if (!response.more || !last) return;
      start = Buffer.concat([last.key, Buffer.from([0])]);
      if (options.withValues) {
        // Keep pages near VALUES_PAGE_BYTES whatever the value sizes are.
        if (bytes > VALUES_PAGE_BYTES * 2) limit = Math.max(16, Math.floor(limit / 2));
        else if (bytes < VALUES_PAGE_BYTES / 2) limit = Math.min(KEYS_PAGE, limit * 2);
      }
    }
  }

  /**
   * One page of keys-only results in [start, end) (end `[0]`: every key from `start` on), in key order;
   * `more` when the range holds more. A caller that knows where its ranges end (the diff does, from the
   * snapshot) keeps etcd's work per page to the page: etcd walks its index from `start` to `end` on every
   * ranged request to count the total, whatever the limit, so open-ended pages cost the square of the keys.
   */
  async page(start: Buffer, end: Buffer, limit: number): Promise<{ keys: LiveKey[]; more: boolean }> {
    const response = await this.range({ key: start, range_end: end, limit, keys_only: true });
    const keys = response.kvs.map((kv): LiveKey => ({
      key: kv.key.toString('latin1'),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
      version: Number(kv.version),
    }));
    return { keys, more: response.more };
  }

  /** How many keys start with `prefix` (or equal `key` exactly, with `exact`). */
  async count(key: string, exact = false): Promise<number> {
    const start = key === '' ? Buffer.from([0]) : Buffer.from(key, 'latin1');
    const request = exact ? { key: start, count_only: true } : { key: start, range_end: prefixRangeEnd(start), count_only: true };
    const response = await this.range(request);
    return Number(response.count);
  }

  /** The value of one key at the pinned revision; undefined when it does not exist. */
  async value(key: string): Promise<Buffer | undefined> {
    const response = await this.range({ key: Buffer.from(key, 'latin1') });
    return response.kvs[0]?.value;
  }

  /**
   * etcd's HashKV of this member at `revision` (0: its current one): the CRC-32C of its MVCC history, which every
   * member of one cluster shares). etcd3's own `maintenance.hashKV()` calls a method name grpc does not
   * have (it is generated as `hashKv`), so the call goes through the client's pool.
   */
  async hashKv(revision = 0): Promise<{ hash: number; revision: number; compactRevision: number }> {
    const pool = (this.client as unknown as { pool: { exec(service: string, method: string, payload: unknown, options: unknown): Promise<unknown> } })
      .pool;
    try {
      const response = (await bounded(
        `${this.member.name} hashKV`,
        this.timeoutMs + 1_000,
        pool.exec('Maintenance', 'hashKv', { revision }, { deadline: Date.now() + this.timeoutMs }),
      )) as { hash: number | string; compact_revision: string; header: { revision: string } };
      return { hash: Number(response.hash), revision: Number(response.header.revision), compactRevision: Number(response.compact_revision) };
    } catch (error) {
      throw new Error(`hashKV on ${this.member.name} failed: ${errorText(error)}`);
    }
  }

  close(): void {
    this.client.close();
  }
}
