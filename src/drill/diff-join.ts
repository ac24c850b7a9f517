// The diff's join: the snapshot's keys (sorted runs merged) a window at a time against the live keys of the
// same key range, read with keys-only pages bounded by the window. Bounded ranges keep etcd's work per
// page to the page, and the next window's first page is asked for before this one is joined, so etcd
// works on it while this process merges.
import type { KeyRecord } from '../etcd/key-runs.js';
import type { LiveKey, LiveKeyReader } from '../etcd/live-keys.js';

/** Where the join sends each key: only in the snapshot, only live, or on both sides. */
export interface JoinSink {
  comeBack(record: KeyRecord): void;
  disappear(live: LiveKey): void;
  both(record: KeyRecord, live: LiveKey): void;
}

export type LivePages = Pick<LiveKeyReader, 'page'>;

/** Snapshot keys per window: the live side is read one window's key range at a time. Pages inside a
 *  window's range hold twice that: room for a range that grew since the snapshot. */
const WINDOW = 10_000;
/**
 * And at most about this much of the snapshot's values per window: a keys-only range still makes etcd read
 * every value in it, so a window of 10,000 1 MiB objects would have one member load 10 GiB at once (and
 * spend its CPU collecting that garbage while the restore copies the snapshot).
 */
const WINDOW_BYTES = 64 * 1024 * 1024;
/** As a range end: every key from the start on. */
const TO_THE_END = Buffer.from([0]);

interface Window {
  records: KeyRecord[];
  /** The live keys that belong to it: [start, end). */
  start: Buffer;
  end: Buffer;
}

/**
 * Cuts the snapshot's key-ordered stream into windows of `size` keys or `maxBytes` of keys and values,
 * whichever comes first (at least one key); each window's key range runs to the first key of the next, so
 * the ranges cover every key exactly once (the first from the start, the last to the end).
 */
export function windowsOf(snapshot: Iterator<KeyRecord>, size = WINDOW, maxBytes = WINDOW_BYTES): () => Window | undefined {
  let head = snapshot.next();
  let start: Buffer | undefined = TO_THE_END;
  return () => {
    if (!start) return undefined;
    const records: KeyRecord[] = [];
    let bytes = 0;
    while (!head.done && records.length < size && (records.length === 0 || bytes < maxBytes)) {
      records.push(head.value);
      bytes += head.value.key.length + head.value.valueSize;
      head = snapshot.next();
    }
    const window: Window = { records, start, end: head.done ? TO_THE_END : Buffer.from(head.value.key, 'latin1') };
    start = head.done ? undefined : window.end;
    return window;
  };
}

/** Merge-joins one window of snapshot keys with the live keys of its range, page by page. */
async function joinWindow(
  window: Window,
  firstPage: Promise<{ keys: LiveKey[]; more: boolean }>,
  reader: LivePages,
  sink: JoinSink,
  pageSize: number,
): Promise<void> {
  const snap = window.records;
  let i = 0;
  let page = await firstPage;
  for (;;) {
    for (const live of page.keys) {
      let record = snap[i];
      while (record && record.key < live.key) {
        sink.comeBack(record);
        record = snap[++i];
      }
      if (record && record.key === live.key) {
        sink.both(record, live);
        i++;
      } else sink.disappear(live);
    }
    const last = page.keys.at(-1);
    if (!page.more || !last) break;
    page = await reader.page(Buffer.concat([Buffer.from(last.key, 'latin1'), TO_THE_END]), window.end, pageSize);
  }
  for (const record of snap.slice(i)) sink.comeBack(record);
}

/**
 * The join: the snapshot's keys (sorted runs merged) a window at a time against the live keys of the same
 * key range. The next window's first live page is asked for before this one is joined, so etcd works on
 * it while this process merges.
 */
export async function joinWindows(
  snapshot: Iterable<KeyRecord>,
  reader: LivePages,
  sink: JoinSink,
  options: { signal?: AbortSignal; window?: number; windowBytes?: number } = {},
): Promise<void> {
  const size = options.window ?? WINDOW;
  const next = windowsOf(snapshot[Symbol.iterator](), size, options.windowBytes ?? WINDOW_BYTES);
  const ask = (window: Window) => reader.page(window.start, window.end, 2 * size);
  let window = next();
  let firstPage = window && ask(window);
  while (window && firstPage) {
    options.signal?.throwIfAborted();
    const following = next();
    const followingPage = following && ask(following);
    // A failed prefetch must not go unhandled while this window still runs; it is awaited (and thrown) in turn.
    followingPage?.catch(() => undefined);
    await joinWindow(window, firstPage, reader, sink, 2 * size);
    window = following;
    firstPage = followingPage;
  }
}
