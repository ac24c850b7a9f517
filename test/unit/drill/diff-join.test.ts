// The diff's join, window by window, against a fake cluster that serves keys-only pages the way etcd does
// (range [start, end), `end` [0] for "to the end", a limit and `more`), checked against a plain map diff.
import { expect } from 'chai';
import { joinWindows, type JoinSink, type LivePages } from '../../../src/drill/diff-join.js';
import type { KeyRecord } from '../../../src/etcd/key-runs.js';
import type { LiveKey } from '../../../src/etcd/live-keys.js';

const record = (key: string, modRevision: number, createRevision = 1): KeyRecord => ({
  key,
  main: modRevision,
  sub: 0,
  tombstone: false,
  createRevision,
  modRevision,
  version: 1,
  valueSize: 0,
  valueCrc: 0,
});

/** A cluster's keys (latin1, sorted), served in pages; records every range asked and how many keys it spans. */
class FakeCluster implements LivePages {
  readonly asked: { start: string; end: string; spanned: number }[] = [];
  constructor(private readonly keys: LiveKey[]) {}

  page(start: Buffer, end: Buffer, limit: number): Promise<{ keys: LiveKey[]; more: boolean }> {
    const from = start.toString('latin1');
    const toEnd = end.length === 1 && end[0] === 0;
    const to = end.toString('latin1');
    const inRange = this.keys.filter((k) => k.key >= from && (toEnd || k.key < to));
    this.asked.push({ start: from, end: toEnd ? '(end)' : to, spanned: inRange.length });
    return Promise.resolve({ keys: inRange.slice(0, limit), more: inRange.length > limit });
  }
}

class Recorder implements JoinSink {
  readonly seen: string[] = [];
  comeBack(r: KeyRecord): void {
    this.seen.push(`back ${r.key}`);
  }
  disappear(l: LiveKey): void {
    this.seen.push(`gone ${l.key}`);
  }
  both(r: KeyRecord, l: LiveKey): void {
    this.seen.push(`${r.modRevision === l.modRevision && r.createRevision === l.createRevision ? 'same' : 'change'} ${r.key}`);
  }
}

/** What the join must find, from two maps. */
function expected(snapshot: KeyRecord[], live: LiveKey[]): string[] {
  const liveByKey = new Map(live.map((l) => [l.key, l]));
  const snapByKey = new Map(snapshot.map((r) => [r.key, r]));
  const keys = [...new Set([...snapByKey.keys(), ...liveByKey.keys()])].sort();
  return keys.map((key) => {
    const r = snapByKey.get(key);
    const l = liveByKey.get(key);
    if (!l) return `back ${key}`;
    if (!r) return `gone ${key}`;
    return `${r.modRevision === l.modRevision && r.createRevision === l.createRevision ? 'same' : 'change'} ${key}`;
  });
}

/** A deterministic pseudo-random generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** `burst` live keys in one folder the snapshot does not have: one window's range then needs several pages. */
function scenario(seed: number, count: number, burst = 0): { snapshot: KeyRecord[]; live: LiveKey[] } {
  const next = random(seed);
  const snapshot: KeyRecord[] = [];
  const live: LiveKey[] = [];
  for (let i = 0; i < count; i++) {
    // Keys with bytes above 0x7f and a prefix of another key: string order must stay etcd's byte order.
    const key = `/registry/${['pods', 'pods\u00ff', 'secrets'][i % 3]}/ns-${i % 5}/obj-${Math.floor(next() * 1e6)}`;
    const roll = next();
    if (roll < 0.15) snapshot.push(record(key, 10));
    else if (roll < 0.3) live.push({ key, createRevision: 1, modRevision: 20, version: 1 });
    else if (roll < 0.45) {
      snapshot.push(record(key, 10));
      live.push({ key, createRevision: 1, modRevision: 30, version: 2 });
    } else {
      snapshot.push(record(key, 10));
      live.push({ key, createRevision: 1, modRevision: 10, version: 1 });
    }
  }
  for (let i = 0; i < burst; i++)
    live.push({ key: `/registry/rogue/x-${String(i).padStart(3, '0')}`, createRevision: 40, modRevision: 40, version: 1 });
  const dedupe = <T extends { key: string }>(items: T[]) =>
    [...new Map(items.map((i) => [i.key, i])).values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  return { snapshot: dedupe(snapshot), live: dedupe(live) };
}

describe('joinWindows: the snapshot against the cluster, one bounded key range at a time', () => {
  for (const [label, seed, count, window, burst] of [
    ['many windows', 1, 600, 7, 0],
    ['a range that grew: several pages in one window', 5, 300, 7, 60],
    ['one window', 2, 50, 1000, 0],
    ['windows of one key', 3, 40, 1, 5],
  ] as const) {
    it(`finds what a map diff finds (${label})`, async () => {
      const { snapshot, live } = scenario(seed, count, burst);
      const cluster = new FakeCluster(live);
      const sink = new Recorder();
      await joinWindows(snapshot, cluster, sink, { window });
      expect(sink.seen).to.deep.equal(expected(snapshot, live));
      // With a burst, some range held more than a page: the join went on inside it.
      if (burst > 2 * window) expect(cluster.asked.some((a) => a.spanned > 2 * window)).to.equal(true);
    });
  }

  it('asks for bounded ranges that cover every key once, so etcd never walks to the end for each page', async () => {
    const { snapshot, live } = scenario(4, 2000);
    const cluster = new FakeCluster(live);
    await joinWindows(snapshot, cluster, new Recorder(), { window: 50 });
    expect(cluster.asked[0]?.start).to.equal('\u0000');
    expect(cluster.asked.at(-1)?.end).to.equal('(end)');
    // Every request spans about one window of keys (a range of 50 snapshot keys holds ~50 live ones), never the rest of the keyspace.
    expect(Math.max(...cluster.asked.map((a) => a.spanned))).to.be.lessThan(150);
    expect(cluster.asked.length).to.be.greaterThan(live.length / 150);
  });

  it("cuts windows by the snapshot's value bytes too, so one keys-only range never makes etcd load gigabytes", async () => {
    const { snapshot, live } = scenario(6, 300);
    const big = snapshot.map((r, i) => ({ ...r, valueSize: i % 10 === 0 ? 5_000 : 100 }));
    const cluster = new FakeCluster(live);
    const sink = new Recorder();
    await joinWindows(big, cluster, sink, { window: 1000, windowBytes: 2_000 });
    expect(sink.seen).to.deep.equal(expected(big, live));
    // Every key fits one window by count; by bytes a window ends at each 5,000-byte value (one in ten keys).
    const byCount = new FakeCluster(live);
    await joinWindows(big, byCount, new Recorder(), { window: 1000 });
    expect(byCount.asked).to.have.length(1);
    expect(cluster.asked.length).to.be.greaterThan(big.length / 15);
    expect(Math.max(...cluster.asked.map((a) => a.spanned))).to.be.lessThan(40);
  });

  it('an empty snapshot: every live key is removed; an empty cluster: every snapshot key comes back', async () => {
    const live: LiveKey[] = [{ key: 'a', createRevision: 1, modRevision: 2, version: 1 }];
    const first = new Recorder();
    await joinWindows([], new FakeCluster(live), first, { window: 3 });
    expect(first.seen).to.deep.equal(['gone a']);
    const second = new Recorder();
    await joinWindows([record('a', 2), record('b', 3)], new FakeCluster([]), second, { window: 1 });
    expect(second.seen).to.deep.equal(['back a', 'back b']);
  });

  it('a failed page read fails the join', async () => {
    const failing: LivePages = { page: () => Promise.reject(new Error('reading keys failed: deadline')) };
    let failure: unknown;
    await joinWindows([record('a', 1), record('b', 1)], failing, new Recorder(), { window: 1 }).catch((error: unknown) => (failure = error));
    expect(String(failure)).to.match(/deadline/);
  });
});
