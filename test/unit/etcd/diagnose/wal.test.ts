// The WAL reader against WAL files written by real etcd 3.4 (Debian 12) and 3.5 (Debian 13, when the lab
// has fetched it): intact, bit-flipped, truncated, torn by a power cut, missing, with a segment gap. Each
// etcd is killed with SIGKILL after its writes, as a power cut would leave it.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdtemp, open, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOverLocalFiles } from '../../../../src/etcd/diagnose/byte-reader.js';
import { isTornWrite, parseWalName, readWal, segmentsToRead, type WalFacts, type WalFile } from '../../../../src/etcd/diagnose/wal.js';
import { startEtcd } from '../../../helpers/etcd.js';

const versions = [
  { version: '3.4', binary: '/usr/bin/etcd', ip: '127.0.103.21' },
  { version: '3.5', binary: '/opt/orchestrate-lab/etcd-3.5/usr/bin/etcd', ip: '127.0.103.22' },
].filter((v) => existsSync(v.binary));

async function listing(dir: string): Promise<WalFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
  return Promise.all(names.map(async (name) => ({ name, size: (await stat(join(dir, name))).size })));
}

async function read(dir: string): Promise<WalFacts> {
  return runOverLocalFiles(readWal(dir, await listing(dir), 0));
}

async function writeAt(file: string, offset: number, bytes: Buffer): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.write(bytes, 0, bytes.length, offset);
  } finally {
    await handle.close();
  }
}

for (const { version, binary, ip } of versions) {
  describe(`readWal on a WAL written by etcd ${version}`, function () {
    this.timeout(60_000);
    let work: string;
    let pristine: string;
    let status: { raftIndex: number; memberId: string; clusterId: string; term: number };

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'orchestrate-wal-'));
      const etcd = await startEtcd({ ip, binary });
      for (let i = 0; i < 40; i++) await etcd.etcdctl(['put', `/registry/key-${i}`, `value-${i}-${'x'.repeat(i * 10)}`]);
      const [row] = JSON.parse((await etcd.etcdctl(['endpoint', 'status', '-w', 'json'])).replace(/:\s*(\d{15,})/g, ':"$1"')) as {
        Status: { header: { member_id: string; cluster_id: string }; raftIndex: number; raftTerm: number };
      }[];
      status = {
        raftIndex: row!.Status.raftIndex,
        memberId: BigInt(row!.Status.header.member_id).toString(16),
        clusterId: BigInt(row!.Status.header.cluster_id).toString(16),
        term: row!.Status.raftTerm,
      };
      process.kill(etcd.pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 300));
      pristine = join(work, 'pristine');
      await cp(join(etcd.dataDir, 'member', 'wal'), pristine, { recursive: true });
      await etcd.destroy();
    });

    after(async () => {
      await rm(work, { recursive: true, force: true });
    });

    async function copy(name: string): Promise<{ dir: string; file: string }> {
      const dir = join(work, name);
      await cp(pristine, dir, { recursive: true });
      const [segment] = await listing(dir);
      return { dir, file: join(dir, segment!.name) };
    }

    it('reads every record of an intact WAL: last index, term, commit, member and cluster id as etcd reported them', async () => {
      const facts = await read(pristine);
      expect(facts.state, facts.problem).to.equal('intact');
      expect(facts.lastIndex).to.equal(status.raftIndex);
      expect(facts.commitIndex).to.be.within(status.raftIndex - 1, status.raftIndex);
      expect(facts.term).to.equal(status.term);
      expect(facts.nodeId).to.equal(status.memberId);
      expect(facts.clusterId).to.equal(status.clusterId);
      expect(facts.records).to.be.greaterThan(40);
      // Only the used part of the 64 MB preallocated segment is read.
      expect(facts.bytesRead).to.be.lessThan(2 * 1024 * 1024);
    });

    it('a bit flipped inside a record is a crc mismatch at that record (corrupt), the entries before it still counted', async () => {
      const { dir, file } = await copy('flipped');
      const intact = await read(pristine);
      const target = Math.floor(intact.endOffset / 2);
      const handle = await open(file, 'r+');
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, target);
      byte[0] = byte[0]! ^ 0x10;
      await handle.write(byte, 0, 1, target);
      await handle.close();
      const facts = await read(dir);
      expect(facts.state).to.equal('corrupt');
      expect(facts.problem).to.match(/crc mismatch|undecodable|cannot be|entries are missing/);
      expect(facts.lastIndex).to.be.lessThan(status.raftIndex);
      expect(facts.endOffset).to.be.at.most(target);
    });

    it('a segment cut inside a record (bytes gone, not zero) is truncated, not torn', async () => {
      const { dir, file } = await copy('truncated');
      const intact = await read(pristine);
      await truncate(file, intact.lastRecordOffset + 12);
      const facts = await read(dir);
      expect(facts.state).to.equal('truncated');
      expect(facts.problem).to.contain('at offset');
    });

    it('a last record whose final sector is still zero is a torn write (etcd repairs it), the record before it intact', async () => {
      const { dir, file } = await copy('torn');
      const intact = await read(pristine);
      // The frame header made it to disk, the record's sectors did not (still zero), as a power cut leaves it.
      await writeAt(file, intact.lastRecordOffset + 8, Buffer.alloc(intact.endOffset - intact.lastRecordOffset - 8));
      const facts = await read(dir);
      expect(facts.state, facts.problem).to.equal('torn-tail');
      expect(facts.endOffset).to.equal(intact.lastRecordOffset);
    });

    it('a zeroed sector in the middle of the WAL (not its last record) is corrupt, not torn', async () => {
      const { dir, file } = await copy('zeroed-middle');
      const intact = await read(pristine);
      const middle = Math.floor(intact.endOffset / 1024) * 512;
      await writeAt(file, middle, Buffer.alloc(512));
      const facts = await read(dir);
      expect(facts.state).to.equal('corrupt');
    });

    it('a missing segment in the sequence is corrupt; no segment at all is missing', async () => {
      const { dir, file } = await copy('gap');
      await copyFile(file, join(dir, '0000000000000002-00000000000000ff.wal'));
      const facts = await read(dir);
      expect(facts.state).to.equal('corrupt');
      expect(facts.problem).to.contain('a segment is missing');
      const empty = runOverLocalFiles(readWal(join(work, 'nothing'), [], 0));
      expect(empty.state).to.equal('missing');
    });
  });
}

describe('WAL helpers', () => {
  it('parses segment names and picks the segments etcd reads after a snapshot (its searchIndex)', () => {
    expect(parseWalName('0000000000000001-00000000000000a0.wal')).to.deep.equal({ seq: 1n, index: 160n });
    expect(parseWalName('0.tmp')).to.equal(undefined);
    const files = ['0000000000000000-0000000000000000.wal', '0000000000000001-0000000000000064.wal', '0000000000000002-00000000000000c8.wal'].map(
      (name) => ({ name, size: 1 }),
    );
    const names = (index: number) => segmentsToRead(files, index).map((f) => f.name.slice(0, 16));
    expect(names(0)).to.deep.equal(['0000000000000000', '0000000000000001', '0000000000000002']);
    expect(names(150)).to.deep.equal(['0000000000000001', '0000000000000002']);
    expect(names(500)).to.deep.equal(['0000000000000002']);
  });

  it('tells a torn write by a sector chunk of zeros, split at the file offsets of 512-byte sectors', () => {
    const data = Buffer.alloc(600, 1);
    expect(isTornWrite(data, 8)).to.equal(false);
    data.fill(0, 504, 600); // the whole chunk in the second sector (file offsets 512..608)
    expect(isTornWrite(data, 8)).to.equal(true);
    expect(isTornWrite(Buffer.alloc(0), 0)).to.equal(false);
  });
});
