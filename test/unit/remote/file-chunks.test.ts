import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileChunks } from '../../../src/remote/file-chunks.js';

/** Descriptors open in this process (the file's stays open only while it is being read). */
async function openFiles(path: string): Promise<number> {
  const { readlink } = await import('node:fs/promises');
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === path) count++;
  return count;
}

describe('fileChunks (a file through one reused buffer)', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'orchestrate-chunks-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  for (const size of [0, 1, 4095, 4096, 10_000]) {
    it(`gives every byte of a ${size}-byte file in order, each chunk a view of the same buffer`, async () => {
      const path = join(dir, `f${size}`);
      const data = randomBytes(size);
      await writeFile(path, data);
      const copies: Buffer[] = [];
      const backing = new Set<ArrayBufferLike>();
      for await (const chunk of fileChunks(path, 4096)) {
        expect(chunk.length).to.be.within(1, 4096);
        copies.push(Buffer.from(chunk));
        backing.add(chunk.buffer);
      }
      expect(Buffer.concat(copies).equals(data)).to.equal(true);
      expect(backing.size).to.be.at.most(1);
      expect(await openFiles(path)).to.equal(0);
    });
  }

  it('closes the file when the reader stops early', async () => {
    const path = join(dir, 'early');
    await writeFile(path, randomBytes(50_000));
    const chunks = fileChunks(path, 4096);
    await chunks.next();
    expect(await openFiles(path)).to.equal(1);
    await chunks.return(undefined);
    expect(await openFiles(path)).to.equal(0);
  });

  it('fails with the error of the open for a missing file', async () => {
    try {
      for await (const chunk of fileChunks(join(dir, 'missing'))) expect.fail(`no chunk expected, got ${chunk.length} bytes`);
      expect.fail('the read should fail');
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).to.equal('ENOENT');
    }
  });
});
