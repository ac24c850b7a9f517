// Member replace: when it is refused, where a resumed replace stands, the join drop-in built from the
// unit's own ExecStart, and the set-aside command run by a real /bin/sh on a temporary data dir.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { EtcdMember } from '../../../../src/config/types.js';
import { etcdMember } from '../member-fixture.js';
import type { MemberObservation } from '../../../../src/etcd/cluster/observe.js';
import {
  checkReplace,
  ensureDataDirCommand,
  joinDropIn,
  quoteUnitWord,
  replaceStage,
  setAsideCommand,
  withFlagWords,
} from '../../../../src/etcd/member/replace.js';
import { configFromUnit, type MemberConfig } from '../../../../src/etcd/members/read-config.js';
import { settingsFromArgs } from '../../../../src/etcd/members/etcd-flags.js';
import { readService } from '../../../../src/etcd/members/systemd-unit.js';

const sh = promisify(execFile);

function members(n: number): EtcdMember[] {
  return Array.from({ length: n }, (_, i) => etcdMember(i + 1, { token: 't' }));
}

function observed(list: EtcdMember[], healthy: number[]): MemberObservation[] {
  return list.map((m, i) =>
    healthy.includes(i + 1)
      ? { name: m.name, host: m.host, endpoint: m.clientUrl, ok: true, durationMs: 1, memberId: `m${i}`, leaderId: 'm0', isLeader: i === 0 }
      : { name: m.name, host: m.host, endpoint: m.clientUrl, ok: false, durationMs: 1, error: 'refused' },
  );
}

describe('checkReplace', () => {
  const table: { name: string; n: number; healthy: number[]; target: number; ok: boolean; problem?: RegExp }[] = [
    { name: '3 healthy: any member may be replaced', n: 3, healthy: [1, 2, 3], target: 2, ok: true },
    { name: '3 members, the target down, two healthy: allowed', n: 3, healthy: [1, 2], target: 3, ok: true },
    {
      name: '3 members, another down: removing a healthy one loses quorum',
      n: 3,
      healthy: [1, 2],
      target: 2,
      ok: false,
      problem: /would lose quorum/,
    },
    { name: '3 members, only the target healthy: refused', n: 3, healthy: [2], target: 2, ok: false, problem: /only healthy member/ },
    { name: '5 members, two down, a down one replaced: allowed', n: 5, healthy: [1, 2, 3], target: 4, ok: true },
    {
      name: '5 members, two down, a healthy one replaced: loses quorum',
      n: 5,
      healthy: [1, 2, 3],
      target: 1,
      ok: false,
      problem: /would lose quorum/,
    },
    { name: 'a single member cannot be replaced', n: 1, healthy: [1], target: 1, ok: false, problem: /only member/ },
  ];
  for (const row of table) {
    it(row.name, () => {
      const list = members(row.n);
      const result = checkReplace(list, observed(list, row.healthy), `10.0.0.${row.target}`);
      expect(result.ok).to.equal(row.ok);
      if (row.problem) expect(result.problem).to.match(row.problem);
    });
  }
});

describe('replaceStage (where a resumed replace stands, from the live member list)', () => {
  const [target] = members(1) as [EtcdMember];
  const other = { id: 'b', name: 'etcd9', peerUrls: ['https://10.0.0.9:2380'], isLearner: false };
  it('listed under its old id: remove; absent: add; added and not started: start; learner: promote; voting: done', () => {
    expect(replaceStage([other, { id: 'a', name: 'etcd1', peerUrls: [target.peerUrl], isLearner: false }], target, undefined)).to.deep.equal({
      stage: 'remove',
      id: 'a',
    });
    expect(replaceStage([other], target, 'a')).to.deep.equal({ stage: 'add' });
    expect(replaceStage([other, { id: 'c', name: '', peerUrls: [target.peerUrl], isLearner: true }], target, 'a')).to.deep.equal({
      stage: 'start',
      id: 'c',
    });
    expect(replaceStage([other, { id: 'c', name: 'etcd1', peerUrls: [target.peerUrl], isLearner: true }], target, 'a')).to.deep.equal({
      stage: 'promote',
      id: 'c',
    });
    expect(replaceStage([other, { id: 'c', name: 'etcd1', peerUrls: [target.peerUrl], isLearner: false }], target, 'a')).to.deep.equal({
      stage: 'done',
      id: 'c',
    });
  });
});

const unit = `# /etc/systemd/system/etcd.service
[Unit]
Description=Etcd Server

[Service]
Type=notify
ExecStart=/usr/bin/etcd \\
  --name=etcd1 \\
  --data-dir=/var/lib/etcd \\
  --initial-cluster-token etcd-cluster-0 \\
  --initial-cluster=etcd1=https://10.0.0.1:2380 \\
  --initial-cluster-state=new \\
  --cert-file="/etc/etcd/ssl/etcd server.pem"
Restart=always
`;

const unitFile = { path: '/etc/systemd/system/etcd.service', text: unit };

/** The member's configuration as etcd.member-config reads it (unit, drop-ins, EnvironmentFiles). */
function configOf(files: { path: string; text: string }[], envFiles: Map<string, string> = new Map()): MemberConfig {
  return configFromUnit('10.0.0.1', { staticPods: [], unitFiles: files, specifiers: { unit: 'etcd.service', hostname: 'node1' } }, envFiles, 'etcd');
}

/** The argv systemd runs once the drop-in is in place. */
function argvWith(dropIn: string): string[] {
  return readService([unitFile, { path: '/etc/systemd/system/etcd.service.d/90-orchestrate-join.conf', text: dropIn }]).argv;
}

describe('the join drop-in', () => {
  it('keeps every flag of the unit but sets --initial-cluster-state existing and the whole member list', () => {
    const list = members(3);
    const text = joinDropIn(configOf([unitFile]), list[0]!, list, '20260101T000000Z');
    if (typeof text !== 'string') throw new Error(text.problem);
    const argv = argvWith(text);
    const settings = settingsFromArgs(argv.slice(1));
    expect(settings.initialClusterState).to.equal('existing');
    expect(settings.certFile).to.equal('/etc/etcd/ssl/etcd server.pem');
    expect(settings.token).to.equal('etcd-cluster-0');
    expect(argv).to.include('--initial-cluster=etcd1=https://10.0.0.1:2380,etcd2=https://10.0.0.2:2380,etcd3=https://10.0.0.3:2380');
    expect(argv.filter((w) => w.startsWith('--initial-cluster-state'))).to.have.length(1);
    expect(text).to.match(/^ExecStart=$/m);
    expect(withFlagWords(['etcd', '--a', 'x', '--b=y'], new Map([['a', 'z']]))).to.deep.equal(['etcd', '--b=y', '--a=z']);
  });

  it('writes values taken from an EnvironmentFile and specifiers as they were, not substituted twice', () => {
    const list = members(3);
    const envUnit = {
      path: unitFile.path,
      text: '[Service]\nEnvironmentFile=/etc/default/etcd\nExecStart=/usr/bin/etcd --name=${NAME} --data-dir=/var/lib/%H $ARGS\n',
    };
    const config = configOf(
      [envUnit],
      new Map([['/etc/default/etcd', 'NAME=etcd1\nARGS="--listen-metrics-urls=http://a/$x%y --initial-cluster-state=new"']]),
    );
    const text = joinDropIn(config, list[0]!, list, 'r');
    if (typeof text !== 'string') throw new Error(text.problem);
    const argv = readService([envUnit, { path: '/x.conf', text }], {}, { unit: 'etcd.service', hostname: 'node1' }).argv;
    expect(argv.slice(0, 4)).to.deep.equal(['/usr/bin/etcd', '--name=etcd1', '--data-dir=/var/lib/node1', '--listen-metrics-urls=http://a/$x%y']);
    expect(quoteUnitWord('a b$c%d')).to.equal('"a b$$c%%d"');
  });

  it('never lets a word end the ExecStart line or start another command', () => {
    const list = members(3);
    // Another member's name as its own configuration gave it (a YAML --config-file can hold a line break).
    const hostile = list.map((m, i) => (i === 2 ? { ...m, name: 'etcd3\nExecStartPre=/bin/touch /tmp/pwned' } : m));
    expect(joinDropIn(configOf([unitFile]), hostile[0]!, hostile, 'r'))
      .to.have.property('problem')
      .that.matches(/control character/);
    expect(() => quoteUnitWord('a\rb')).to.throw(/control character/);
    // A lone `;` is systemd's command separator: it stays an argument.
    const semicolon = { path: unitFile.path, text: '[Service]\nExecStart=/usr/bin/etcd --name=etcd1 \\; /bin/touch /tmp/pwned\n' };
    const text = joinDropIn(configOf([semicolon]), list[0]!, list, 'r');
    if (typeof text !== 'string') throw new Error(text.problem);
    expect(text).to.match(/^ExecStart=\/usr\/bin\/etcd --name=etcd1 ";" \/bin\/touch \/tmp\/pwned /m);
    expect(quoteUnitWord(';')).to.equal('";"');
  });

  it('refuses a unit that runs another name than the inventory says, a --config-file, and a kubeadm member', () => {
    const list = members(3);
    expect(joinDropIn(configOf([unitFile]), list[1]!, list, 'r')).to.deep.equal({
      problem: 'the unit runs etcd --name etcd1, the inventory says etcd2',
    });
    const withFile = configOf(
      [{ path: unitFile.path, text: '[Service]\nExecStart=/usr/bin/etcd --config-file=/etc/etcd.yml\n' }],
      new Map([['/etc/etcd.yml', 'name: etcd1\n']]),
    );
    expect(joinDropIn(withFile, list[0]!, list, 'r'))
      .to.have.property('problem')
      .that.matches(/--config-file \/etc\/etcd\.yml/);
    const kubeadm: MemberConfig = { ...configOf([unitFile]), topology: 'kubeadm' };
    expect(joinDropIn(kubeadm, list[0]!, list, 'r'))
      .to.have.property('problem')
      .that.matches(/kubeadm static pod/);
    expect(joinDropIn(undefined, list[0]!, list, 'r'))
      .to.have.property('problem')
      .that.matches(/was not read/);
  });
});

describe('setAsideCommand through /bin/sh', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-aside-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('moves the data dir aside and leaves an empty one; sent again it says already and moves nothing', async () => {
    const data = join(dir, "etcd 'x'");
    await mkdir(join(data, 'member', 'wal'), { recursive: true });
    await writeFile(join(data, 'member', 'wal', 'keep'), 'old');
    const aside = `${data}.before-replace-R`;
    expect((await sh('/bin/sh', ['-c', setAsideCommand(data, aside)])).stdout.trim()).to.equal('moved');
    expect(await readdir(join(aside, 'member', 'wal'))).to.deep.equal(['keep']);
    expect(await readdir(data)).to.deep.equal([]);
    expect((await stat(data)).mode & 0o777).to.equal(0o700);
    await writeFile(join(data, 'new-member-file'), 'new');
    expect((await sh('/bin/sh', ['-c', setAsideCommand(data, aside)])).stdout.trim()).to.equal('already');
    expect(await readdir(data)).to.deep.equal(['new-member-file']);
    await rm(data, { recursive: true });
    await sh('/bin/sh', ['-c', ensureDataDirCommand(data, aside)]);
    expect(await readdir(data)).to.deep.equal([]);
  });

  it('with no data dir says none and creates an empty one', async () => {
    const data = join(dir, 'etcd');
    expect((await sh('/bin/sh', ['-c', setAsideCommand(data, `${data}.before-replace-R`)])).stdout.trim()).to.equal('none');
    expect(await readdir(dir)).to.deep.equal(['etcd']);
  });
});
