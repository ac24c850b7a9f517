import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPartialName, PartialFile } from '../../../src/etcd/partial-file.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest();

describe('PartialFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-partial-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const chunkSizes of [[1], [31, 32, 33], [32768], [5, 1_500_000, 7, 40]]) {
    it(`hashes the data part and the whole file while writing (chunks of ${chunkSizes.join('/')} bytes)`, async () => {
      const content = randomBytes(chunkSizes.length === 1 && chunkSizes[0] === 1 ? 70_001 : 2_000_003);
      const file = await PartialFile.create(join(dir, 'snapshot_x.db'));
      expect(isPartialName(file.path.split('/').pop()!)).to.equal(true);
      for (let at = 0, i = 0; at < content.length; i++) {
        const size = chunkSizes[i % chunkSizes.length]!;
        await file.append(content.subarray(at, at + size));
        at += size;
      }
      const digests = await file.finish();
      expect(digests.bytes).to.equal(content.length);
      expect(digests.dataSha256.equals(sha(content.subarray(0, content.length - 32)))).to.equal(true);
      expect(digests.tail.equals(content.subarray(content.length - 32))).to.equal(true);
      expect(digests.sha256).to.equal(sha(content).toString('hex'));
      expect((await readFile(file.path)).equals(content)).to.equal(true);
      expect((await stat(file.path)).mode & 0o777).to.equal(0o600);
    });
  }

  it('commit renames to the final name but never over an existing file; discard removes the temporary file', async () => {
    const a = await PartialFile.create(join(dir, 'a.db'));
    await a.append(Buffer.from('A'));
    await a.finish();
    await a.commit(join(dir, 'a.db'));
    const b = await PartialFile.create(join(dir, 'a.db'));
    await b.append(Buffer.from('B'));
    await b.finish();
    const error = await b.commit(join(dir, 'a.db')).catch((e: unknown) => e);
    expect(error).to.have.property('code', 'EEXIST');
    expect(await readFile(join(dir, 'a.db'), 'utf8')).to.equal('A');
    await b.discard();
    expect(await readdir(dir)).to.deep.equal(['a.db']);
  });

  it('is created exclusively: an existing temporary name is never reused', async () => {
    const file = await PartialFile.create(join(dir, 'x.db'));
    await writeFile(join(dir, 'other'), '');
    expect(file.path).to.match(/x\.db\.partial-[0-9a-f]{12}$/);
    await file.discard();
    await file.discard();
    expect(await readdir(dir)).to.deep.equal(['other']);
  });
});
