// Sorted runs of key records: built in typed arrays, sorted to the newest entry per key, written to owner-only
// files, read back and merged with the later run winning for a key in several runs.
import { expect } from 'chai';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeRuns, RunBuffer, RunReader, type KeyRecord } from '../../../src/etcd/key-runs.js';

function add(run: RunBuffer, key: string, main: number, tombstone = false): void {
  // Revisions above 2^32 and a CRC with the top bit set must survive the typed arrays and the file.
  run.add(key, main, main % 3, tombstone, main - 1, main + 2 ** 33, main * 2, key.length * 10, 0x8000_0000 + main);
}

const summary = (r: KeyRecord) => `${r.key}@${r.main}${r.tombstone ? ' deleted' : ''}`;

describe('key runs: an external sort of key records', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-keyruns-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the newest entry of each key, in byte order (latin1 keys above 0x7f sort last)', () => {
    const run = new RunBuffer();
    add(run, 'b', 1);
    add(run, 'a\u00ff', 2);
    add(run, 'a', 3);
    add(run, 'b', 4);
    add(run, 'a', 5, true);
    add(run, 'ab', 6);
    expect([...run.sorted()].map(summary)).to.deep.equal(['a@5 deleted', 'ab@6', 'a\u00ff@2', 'b@4']);
    expect(run.length).to.equal(6);
    expect(run.bytes).to.be.greaterThan(6 * 72);
  });

  it('grows past its first capacity and writes a run that reads back field for field', async () => {
    const run = new RunBuffer();
    for (let i = 0; i < 5000; i++) add(run, `/registry/pods/p-${String(4999 - i).padStart(5, '0')}`, i + 1);
    const want = [...run.sorted()];
    const file = join(dir, 'run-0');
    run.writeRun(file);
    expect(run.length).to.equal(0);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    const reader = RunReader.open(file);
    const got: KeyRecord[] = [];
    for (let record = reader.next(); record; record = reader.next()) got.push(record);
    reader.close();
    expect(got).to.deep.equal(want);
    expect(got[0]).to.deep.include({ key: '/registry/pods/p-00000', main: 5000, modRevision: 5000 + 2 ** 33, valueCrc: 0x8000_0000 + 5000 });
  });

  it('merges runs: a key in several runs takes the later run (newer revisions), a delete included', () => {
    const files = [0, 1, 2].map((i) => join(dir, `run-${i}`));
    const run = new RunBuffer();
    add(run, 'a', 1);
    add(run, 'c', 2);
    add(run, 'e', 3);
    run.writeRun(files[0]!);
    add(run, 'c', 4);
    add(run, 'd', 5);
    run.writeRun(files[1]!);
    add(run, 'a', 6, true);
    add(run, 'f', 7);
    run.writeRun(files[2]!);
    expect([...mergeRuns(files)].map(summary)).to.deep.equal(['a@6 deleted', 'c@4', 'd@5', 'e@3', 'f@7']);
  });

  it('a run file cut short is an error, not a short list', async () => {
    const run = new RunBuffer();
    add(run, 'a-key-long-enough', 1);
    const file = join(dir, 'run-0');
    run.writeRun(file);
    const { truncateSync } = await import('node:fs');
    truncateSync(file, 10);
    const reader = RunReader.open(file);
    expect(() => reader.next()).to.throw(/ended in the middle of a record/);
    reader.close();
  });
});
