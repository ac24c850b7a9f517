// A member replace on kubeadm: the joining copy of the etcd manifest (built from the one read on the member),
// and the two scripts that write it and put the original back, run by a real /bin/sh on a temporary folder
// with stand-ins for crictl and systemctl on the PATH.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { EtcdMember } from '../../../../src/config/types.js';
import { etcdMember } from '../member-fixture.js';
import { joinManifest, restoreManifestCommand, writeJoinManifestCommand } from '../../../../src/etcd/member/join-manifest.js';
import { configFromManifest, parseFirstRead } from '../../../../src/etcd/members/read-config.js';
import { readEtcdPod } from '../../../../src/etcd/members/static-pod.js';

const sh = promisify(execFile);

const manifest = [
  'apiVersion: v1',
  'kind: Pod',
  'metadata: { name: etcd, namespace: kube-system }',
  'spec:',
  '  containers:',
  '  - name: etcd',
  '    command:',
  '    - etcd',
  '    - --name=cp-2',
  '    - --data-dir=/var/lib/etcd',
  '    - --initial-cluster=cp-1=https://10.0.0.1:2380,cp-2=https://10.0.0.2:2380',
  '    - --initial-cluster-state',
  '    - new',
  '    args: [--snapshot-count=10000]',
  '    volumeMounts:',
  '    - { mountPath: /var/lib/etcd, name: etcd-data }',
  '  volumes:',
  '  - { name: etcd-data, hostPath: { path: /var/lib/etcd, type: DirectoryOrCreate } }',
].join('\n');

const config = configFromManifest('10.0.0.2', parseFirstRead(`==m pod etcd\n==m file /etc/kubernetes/manifests/etcd.yaml\n${manifest}\n`, '==m'));

const members: EtcdMember[] = [1, 2, 3].map((i) => etcdMember(i, { name: `cp-${i}`, token: 't' }));

describe('joinManifest', () => {
  it('drops the container env variables the join flags replace: etcd refuses a flag and its variable together', () => {
    const withEnv = manifest.replace(
      '    volumeMounts:',
      '    env:\n    - { name: ETCD_INITIAL_CLUSTER_STATE, value: new }\n    - { name: ETCD_SNAPSHOT_COUNT, value: "5000" }\n    volumeMounts:',
    );
    const read = configFromManifest('10.0.0.2', parseFirstRead(`==m pod etcd\n==m file /etc/kubernetes/manifests/etcd.yaml\n${withEnv}\n`, '==m'));
    const text = joinManifest(read, members[1]!, members, 'r');
    if (typeof text !== 'string') throw new Error(text.problem);
    const pod = readEtcdPod(text);
    if ('problem' in pod) throw new Error(pod.problem);
    expect(pod.env).to.deep.equal({ ETCD_SNAPSHOT_COUNT: '5000' });
    expect(pod.argv).to.include('--initial-cluster-state=existing');
  });

  it('the original with the join flags in the etcd command (old ones removed, args folded in), volumes kept, a comment naming the run', () => {
    const text = joinManifest(config, members[1]!, members, '20261205T090000Z');
    if (typeof text !== 'string') throw new Error(text.problem);
    const pod = readEtcdPod(text);
    if ('problem' in pod) throw new Error(pod.problem);
    expect(pod.argv).to.deep.equal([
      'etcd',
      '--name=cp-2',
      '--data-dir=/var/lib/etcd',
      '--snapshot-count=10000',
      '--initial-cluster-state=existing',
      '--initial-cluster=cp-1=https://10.0.0.1:2380,cp-2=https://10.0.0.2:2380,cp-3=https://10.0.0.3:2380',
    ]);
    expect(pod.mounts).to.deep.equal([{ mountPath: '/var/lib/etcd', hostPath: '/var/lib/etcd' }]);
    expect(text).to.match(/^# Written by orchestrate member replace \(run 20261205T090000Z\): cp-2 joins/);
  });

  it('refuses another name than the inventory, a --config-file, and a member with no manifest read', () => {
    expect(joinManifest(config, members[0]!, members, 'r')).to.deep.equal({ problem: 'the manifest runs etcd --name cp-2, the inventory says cp-1' });
    const withFile = { ...config, settings: { ...config.settings, configFile: '/etc/etcd.conf' } };
    expect(joinManifest(withFile, members[1]!, members, 'r'))
      .to.have.property('problem')
      .that.contains('--config-file /etc/etcd.conf');
    expect(joinManifest({ ...config, topology: 'systemd' }, members[1]!, members, 'r'))
      .to.have.property('problem')
      .that.contains('no etcd static pod manifest');
    expect(joinManifest(undefined, members[1]!, members, 'r'))
      .to.have.property('problem')
      .that.contains('was not read');
  });
});

describe('the joining manifest on the member (real /bin/sh)', () => {
  let root: string;
  let dir: string;
  let aside: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'join-manifest-'));
    dir = join(root, 'manifests');
    aside = join(root, 'orchestrate-aside-r1');
    const bin = join(root, 'bin');
    await mkdir(dir);
    await mkdir(bin);
    // crictl says the container in ./container runs; systemctl records what it was asked.
    await writeFile(join(bin, 'crictl'), `#!/bin/sh\ncat ${join(root, 'container')} 2>/dev/null\n`);
    await writeFile(join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> ${join(root, 'systemctl.log')}\n[ "$1" != is-active ]\n`);
    await chmod(join(bin, 'crictl'), 0o755);
    await chmod(join(bin, 'systemctl'), 0o755);
    env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  const run = (command: string) =>
    sh('/bin/sh', ['-c', command], { env }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: unknown) => {
        const failed = e as { code: number; stdout: string; stderr: string };
        return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
      },
    );

  it('refuses to write when the original is not aside (the stop did not run): the manifests folder is untouched', async () => {
    await writeFile(join(dir, 'etcd.yaml'), 'original');
    const result = await run(writeJoinManifestCommand(dir, aside, 'joining', 2));
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('the original etcd.yaml is not in');
    expect(await readFile(join(dir, 'etcd.yaml'), 'utf8')).to.equal('original');
  });

  it('writes the joining copy in one rename, starts a stopped kubelet, waits for etcd; then puts the original back and waits for a new container', async () => {
    await mkdir(aside);
    await writeFile(join(aside, 'etcd.yaml'), 'original');
    await writeFile(join(root, 'container'), 'c1\n');
    const joined = await run(writeJoinManifestCommand(dir, aside, 'joining $HOME `x`', 2));
    expect(joined.code, joined.stderr).to.equal(0);
    expect(await readFile(join(dir, 'etcd.yaml'), 'utf8')).to.equal('joining $HOME `x`');
    expect(await readdir(dir)).to.deep.equal(['etcd.yaml']);
    expect(await readFile(join(root, 'systemctl.log'), 'utf8')).to.equal('is-active --quiet kubelet\nstart kubelet\n');
    // The same container still runs: the restore waits, then gives up within its bound.
    const stale = await run(restoreManifestCommand(dir, aside, 1));
    expect(stale.code).to.equal(1);
    expect(stale.stderr).to.contain('not restarted on its original manifest');
    expect(await readFile(join(dir, 'etcd.yaml'), 'utf8')).to.equal('original');
    // Sent again once the original is back: nothing left to do.
    expect((await run(restoreManifestCommand(dir, aside, 1))).stdout.trim()).to.equal('already');
  });

  it('restores the original once kubelet runs a new container on it', async () => {
    await mkdir(aside);
    await writeFile(join(aside, 'etcd.yaml'), 'original');
    await writeFile(join(dir, 'etcd.yaml'), 'joining');
    await writeFile(join(root, 'container'), 'c1\n');
    const restoring = run(restoreManifestCommand(dir, aside, 5));
    await new Promise((resolve) => setTimeout(resolve, 400));
    await writeFile(join(root, 'container'), 'c2\n');
    const result = await restoring;
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout.trim()).to.equal('restored');
    expect(await readFile(join(dir, 'etcd.yaml'), 'utf8')).to.equal('original');
    expect(await readdir(root)).not.to.include('orchestrate-aside-r1');
  });
});
