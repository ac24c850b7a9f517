import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateCommand } from '../../../src/commands/validate.js';
import { UsageError } from '../../../src/errors.js';

/** Runs the command with stdout/stderr captured. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  process.stdout.write = (chunk: string) => out.push(chunk) > 0;
  process.stderr.write = (chunk: string) => err.push(chunk) > 0;
  try {
    const code = await validateCommand(args);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}

describe('orchestrate validate', () => {
  it('exits 0 with one OK line per valid file', async () => {
    const result = await run(['inventories/example.yml', 'test/fixtures/config/good/inventory.yml']);
    expect(result).to.deep.equal({
      code: 0,
      out: 'OK inventories/example.yml (inventory, 5 hosts, 3 etcd members)\nOK test/fixtures/config/good/inventory.yml (inventory, 4 hosts, 3 etcd members)\n',
      err: '',
    });
  });

  it('exits 2 and prints the problems of every file when one is invalid', async () => {
    const result = await run([
      'test/fixtures/config/bad/inventory-duplicate-etcd-name.yml',
      'inventories/example.yml',
      'test/fixtures/config/bad/inventory-even-members.yml',
    ]);
    expect(result.code).to.equal(2);
    expect(result.out).to.equal(
      'OK inventories/example.yml (inventory, 5 hosts, 3 etcd members)\nOK test/fixtures/config/bad/inventory-even-members.yml (inventory, 2 hosts, 2 etcd members)\n',
    );
    expect(result.err).to.match(
      /^test\/fixtures\/config\/bad\/inventory-duplicate-etcd-name\.yml:10:22: error: etcd_name "etcd-a" is also used by 10\.0\.0\.1\n/,
    );
    expect(result.err).to.contain('inventory-even-members.yml:3:5: warning:');
    expect(result.err.endsWith('1 error, 1 warning (1 of 3 files invalid)\n')).to.equal(true);
  });

  it('refuses to run without files', async () => {
    try {
      await run([]);
      expect.fail('should have thrown');
    } catch (error) {
      expect(error).to.be.instanceOf(UsageError);
    }
  });

  it('checks backup_remote and backup_encryption as the commands do: each problem at file:line:col', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orchestrate-validate-remote-'));
    try {
      const file = join(dir, 'inventory.yml');
      await writeFile(
        file,
        'all:\n  vars:\n    backup_remote:\n      bucket: backups\n      secret_access_key: x\n  children:\n    etcd:\n      hosts:\n        10.0.0.1: {}\n',
      );
      const result = await run([file]);
      expect(result.code).to.equal(2);
      expect(result.out).to.equal('');
      expect(result.err).to.contain(`${file}:5:7`);
      expect(result.err).to.match(/secret_access_key/);
      expect(result.err).to.match(/backup_encryption\.recipients/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
