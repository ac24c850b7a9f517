import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeUtf8, FileReadError, readBoundedFile } from '../../../src/config/bounded-read.js';

describe('readBoundedFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bounded-read-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function reason(file: string, limit = 1024): Promise<string> {
    try {
      await readBoundedFile(file, limit);
    } catch (error) {
      expect(error).to.be.instanceOf(FileReadError);
      return (error as FileReadError).reason;
    }
    throw new Error(`${file} was read`);
  }

  it('reads a regular file whole', async () => {
    await writeFile(join(dir, 'ok.txt'), 'hello');
    expect((await readBoundedFile(join(dir, 'ok.txt'), 5)).toString()).to.equal('hello');
  });

  it('refuses a file over the limit', async () => {
    await writeFile(join(dir, 'big.txt'), 'x'.repeat(11));
    expect(await reason(join(dir, 'big.txt'), 10)).to.equal('it is 11 bytes; the limit is 10 bytes');
  });

  it('refuses devices, FIFOs and folders without blocking', async () => {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    await mkdir(join(dir, 'folder'));
    expect(await reason('/dev/zero')).to.match(/not a regular file/);
    expect(await reason(join(dir, 'fifo'))).to.match(/not a regular file/);
    expect(await reason(join(dir, 'folder'))).to.equal('it is a folder, not a file');
  });

  it('names missing files and symlink loops', async () => {
    await symlink('b', join(dir, 'a'));
    await symlink('a', join(dir, 'b'));
    expect(await reason(join(dir, 'missing'))).to.equal('no such file');
    expect(await reason(join(dir, 'a'))).to.match(/symbolic links/);
    const missing = await readBoundedFile(join(dir, 'missing'), 1).catch((error: unknown) => error);
    expect(missing).to.be.instanceOf(FileReadError).and.to.have.property('errno', 'ENOENT');
  });
});

describe('decodeUtf8', () => {
  it('decodes UTF-8 and drops a leading BOM', () => {
    expect(decodeUtf8(Buffer.from('\ufeffa: é\n'))).to.deep.equal({ text: 'a: é\n' });
    expect(decodeUtf8(Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0xff]))).to.deep.equal({ problem: { line: 1, col: 2, byte: 0xff } });
  });

  it('says where the first byte that is not UTF-8 is', () => {
    const bytes = Buffer.concat([Buffer.from('line one\nk: "é '), Buffer.from([0xff]), Buffer.from('"\n')]);
    expect(decodeUtf8(bytes)).to.deep.equal({ problem: { line: 2, col: 7, byte: 0xff } });
    expect(decodeUtf8(Buffer.from([0x61, 0xe9, 0x0a]))).to.deep.equal({ problem: { line: 1, col: 2, byte: 0xe9 } });
  });
});
