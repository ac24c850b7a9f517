// Finding the etcd binaries for a drill: Debian's real 3.4 tools, the choice between etcdutl and etcdctl,
// the --bump-revision capability, and a refusal naming the Debian package when one is missing.
import { expect } from 'chai';
import { chmod, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEtcdTools, parseVersion } from '../../../src/drill/etcd-tools.js';
import { RefusedError } from '../../../src/errors.js';

async function refusal(path: string): Promise<RefusedError> {
  try {
    await findEtcdTools(path);
  } catch (error) {
    if (error instanceof RefusedError) return error;
    throw error;
  }
  throw new Error('not refused');
}

/** A stand-in for a tool that only answers its version and restore help (the probing is what is tested). */
async function fakeTool(dir: string, name: string, version: string, help: string): Promise<void> {
  const file = join(dir, name);
  await writeFile(
    file,
    `#!/bin/sh\ncase "$1" in\n  version|--version) echo "${name} version: ${version}";;\n  snapshot) echo "${help}";;\n  *) exit 1;;\nesac\n`,
  );
  await chmod(file, 0o755);
}

describe('findEtcdTools', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-tools-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("Debian 12's etcd and etcdctl 3.4: etcdctl restores, no revision bump", async () => {
    const tools = await findEtcdTools('/usr/bin');
    expect(tools.etcd).to.deep.equal({ path: '/usr/bin/etcd', version: '3.4.23' });
    expect(tools.restore).to.deep.equal({ tool: 'etcdctl', path: '/usr/bin/etcdctl', version: '3.4.23', bumpRevision: false });
  });

  it("prefers the restore tool of etcd's own minor version, etcdutl first, and sees --bump-revision", async () => {
    const v35 = join(dir, 'v35');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(v35);
    await fakeTool(v35, 'etcd', '3.5.16', '');
    await fakeTool(v35, 'etcdutl', '3.5.16', '--data-dir --bump-revision --mark-compacted --skip-hash-check');
    const tools = await findEtcdTools(`${v35}:/usr/bin`);
    expect(tools.etcd.version).to.equal('3.5.16');
    expect(tools.restore).to.deep.equal({ tool: 'etcdutl', path: join(v35, 'etcdutl'), version: '3.5.16', bumpRevision: true });
    // etcd 3.4 first on the PATH: its own etcdctl wins over a 3.5 etcdutl.
    expect((await findEtcdTools(`/usr/bin:${v35}`)).restore.tool).to.equal('etcdctl');
  });

  it('no etcd: refused naming etcd-server', async () => {
    const error = await refusal(join(dir, 'nothing'));
    expect(error.message).to.match(/^the etcd server \(etcd\) is not on the PATH/);
    expect(error.hint).to.contain('apt-get install etcd-server');
  });

  it('etcd but no restore tool (or only an etcdctl 3.6 without snapshot restore): refused naming etcd-client', async () => {
    const only = join(dir, 'only-etcd');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(only);
    await symlink('/usr/bin/etcd', join(only, 'etcd'));
    await fakeTool(only, 'etcdctl', '3.6.0', 'Error: unknown command "restore"');
    const error = await refusal(only);
    expect(error.message).to.contain('no etcdutl or etcdctl that can restore a snapshot');
    expect(error.message).to.contain(`${join(only, 'etcdctl')} has no \`snapshot restore\``);
    expect(error.hint).to.contain('apt-get install etcd-client');
  });

  it('reads the versions etcd tools print', () => {
    expect(
      ['etcd Version: 3.4.23', 'etcdutl version: 3.5.16\nAPI version: 3.5', 'etcdctl version: v3.6.1', 'nothing'].map(parseVersion),
    ).to.deep.equal(['3.4.23', '3.5.16', '3.6.1', undefined]);
  });
});
