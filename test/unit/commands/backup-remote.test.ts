// `orchestrate backup` with backup_remote refuses before any host is touched: settings problems at
// file:line:col (exit 2), no credentials (exit 2), an operator's copy of backup.yml without the copy task.
// The inventories name 127.0.0.1, which is never contacted: every case ends before a connection.
import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBackup } from '../../../src/commands/backup.js';
import { ConfigError, OrchestrateError } from '../../../src/errors.js';
import { repoRoot } from '../../helpers/cli.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const noCredentials = { AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config' };

/** The command's error (its classes are compared by name: the command loads its modules on its own). */
async function rejection(promise: Promise<unknown>): Promise<OrchestrateError & Partial<ConfigError>> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.have.property('exitCode');
    return error as OrchestrateError & Partial<ConfigError>;
  }
  throw new Error('expected a rejection');
}

describe('backup with backup_remote: refused before any host is touched', () => {
  let dir: string;
  const inventory = async (remote: string, encryption = `    backup_encryption:\n      recipients: [${RECIPIENT}]\n`) => {
    const file = join(dir, 'inventory.yml');
    await writeFile(
      file,
      `all:\n  vars:\n    etcd_cluster_token: unit\n    backup_remote:\n${remote}${encryption}  children:\n    etcd:\n      hosts:\n        127.0.0.1: {}\n`,
    );
    return file;
  };
  const nothingRan = async () => {
    const catalog = await stat(join(dir, '.orchestrate')).catch(() => undefined);
    expect(catalog, 'no catalog, no metrics written').to.equal(undefined);
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-backup-remote-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('a bad setting is a ConfigError at file:line:col with the fix', async () => {
    const file = await inventory('      endpoint: https://s3.example.test\n      bucket: Not_A_Bucket\n');
    const error = await rejection(runBackup({ inventoryFile: file, output: 'silent', remote: { env: noCredentials } }));
    expect(error.name).to.equal('ConfigError');
    const problem = (error.problems ?? []).find((p) => p.severity === 'error');
    expect(problem?.loc).to.deep.equal({ file, line: 6, col: 15 });
    expect(problem?.message).to.match(/bucket/);
    expect(problem?.hint).to.be.a('string');
    expect(error.exitCode).to.equal(2);
    await nothingRan();
  });

  it('backup_encryption.local must be true or false; local: true is accepted (the next check is the credentials)', async () => {
    const bad = await inventory('      bucket: backups\n', `    backup_encryption:\n      recipients: [${RECIPIENT}]\n      local: sometimes\n`);
    const error = await rejection(runBackup({ inventoryFile: bad, output: 'silent', remote: { env: noCredentials } }));
    expect(error.name).to.equal('ConfigError');
    expect((error.problems ?? []).find((p) => p.severity === 'error')?.loc).to.deep.equal({ file: bad, line: 8, col: 14 });
    const good = await inventory('      bucket: backups\n', `    backup_encryption:\n      recipients: [${RECIPIENT}]\n      local: true\n`);
    const next = await rejection(runBackup({ inventoryFile: good, output: 'silent', remote: { env: noCredentials } }));
    expect(next.message).to.match(/credentials/i);
    await nothingRan();
  });

  it('no credentials anywhere: exit 2, every place looked at named, for --dry-run too', async () => {
    const file = await inventory('      endpoint: https://s3.example.test\n      bucket: backups\n');
    for (const dryRun of [false, true]) {
      const error = await rejection(runBackup({ inventoryFile: file, output: 'silent', dryRun, remote: { env: noCredentials } }));
      expect(error.exitCode).to.equal(2);
      expect(error.message).to.match(/credentials/i);
      expect(error.message).to.contain('/nonexistent/credentials');
    }
    await nothingRan();
  });

  it("an operator's copy of backup.yml without etcd.remote-copy is refused: the snapshots would silently stay local", async () => {
    const file = await inventory('      endpoint: https://s3.example.test\n      bucket: backups\n');
    const original = await readFile(join(repoRoot, 'playbooks', 'backup.yml'), 'utf8');
    const copy = original.replace(/\n {4}- name: Copy it to backup_remote[\s\S]*?tags: \[remote-copy\]\n/, '\n');
    expect(copy).not.to.contain('etcd.remote-copy');
    const playbook = join(dir, 'old-backup.yml');
    await writeFile(playbook, copy);
    const error = await rejection(runBackup({ inventoryFile: file, playbook, output: 'silent', remote: { env: noCredentials } }));
    expect(error.name).to.equal('ConfigError');
    const [problem] = error.problems ?? [];
    expect(problem?.code).to.equal('backup.no-remote-copy-task');
    expect(problem?.loc?.file).to.equal(playbook);
    expect(problem?.hint).to.contain('etcd.remote-copy: {}');
    await nothingRan();
  });
});
