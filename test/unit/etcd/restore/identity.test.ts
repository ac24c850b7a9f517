import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import type { EtcdMember } from '../../../../src/config/types.js';
import { etcdMember } from '../member-fixture.js';
import { checkIdentities, initialClusterFlag, restoreArgv, restoreCommandLine } from '../../../../src/etcd/restore/identity.js';
import { newRunId, restorePaths } from '../../../../src/etcd/restore/paths.js';

const member = (i: number, overrides: Partial<EtcdMember> = {}): EtcdMember => etcdMember(i, overrides);
const cluster = (n: number): EtcdMember[] => Array.from({ length: n }, (_, i) => member(i + 1));

/** Parses a command line with a real sh, so the test sees the words etcdctl would see. */
function wordsOf(line: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `set -- ${line}; printf '%s\\0' "$@"`]).toString();
  return out.split('\0').slice(0, -1);
}
function flag(words: string[], name: string): string | undefined {
  const i = words.indexOf(name);
  return i < 0 ? undefined : words[i + 1];
}

describe('restore identity planning', () => {
  for (const n of [1, 3, 5, 7]) {
    it(`gives each of ${n} members its own name and peer URL inside one initial cluster`, () => {
      const members = cluster(n);
      const expectedCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
      const lines = members.map((m) =>
        restoreCommandLine(m, members, {
          tool: 'etcdutl',
          snapshotPath: '/var/lib/etcd.restore-X.snapshot.db',
          targetDir: '/var/lib/etcd.restore-X',
        }),
      );
      expect(new Set(lines).size).to.equal(n);
      members.forEach((m, i) => {
        const words = wordsOf(lines[i]!);
        expect(words.slice(0, 4)).to.deep.equal(['etcdutl', 'snapshot', 'restore', '/var/lib/etcd.restore-X.snapshot.db']);
        expect(flag(words, '--name')).to.equal(m.name);
        expect(flag(words, '--initial-cluster')).to.equal(expectedCluster);
        expect(flag(words, '--initial-cluster-token')).to.equal('etcd-cluster-0');
        expect(flag(words, '--initial-advertise-peer-urls')).to.equal(m.peerUrl);
        expect(flag(words, '--data-dir')).to.equal('/var/lib/etcd.restore-X');
        expect(words).not.to.include('--skip-hash-check');
      });
    });
  }

  it('prefixes ETCDCTL_API=3 for etcdctl and adds --skip-hash-check only for a raw db', () => {
    const members = cluster(3);
    const line = restoreCommandLine(members[1]!, members, { tool: 'etcdctl', snapshotPath: '/s.db', targetDir: '/d', skipHashCheck: true });
    expect(line.startsWith('ETCDCTL_API=3 etcdctl snapshot restore /s.db ')).to.equal(true);
    expect(line.endsWith(' --skip-hash-check')).to.equal(true);
  });

  it('keeps hostile inventory values as single words', () => {
    const evil = member(1, { name: 'a;touch /tmp/x', dataDir: "/var/lib/et'cd $(id)" });
    const words = wordsOf(
      restoreCommandLine(evil, [evil], { tool: 'etcdutl', snapshotPath: '/s b.db', targetDir: "/var/lib/et'cd $(id).restore-1" }),
    );
    expect(flag(words, '--name')).to.equal('a;touch /tmp/x');
    expect(flag(words, '--data-dir')).to.equal("/var/lib/et'cd $(id).restore-1");
    expect(words[3]).to.equal('/s b.db');
  });

  it('builds the initial cluster flag in inventory order', () => {
    expect(initialClusterFlag(cluster(2))).to.equal('etcd1=https://10.0.0.1:2380,etcd2=https://10.0.0.2:2380');
    expect(restoreArgv(member(1), [member(1)], { tool: 'etcdutl', snapshotPath: 's', targetDir: 't' })).to.have.length(14);
  });
});

describe('restore identity checks', () => {
  const cases: { title: string; members: EtcdMember[]; errors: string[]; warnings: string[] }[] = [
    { title: 'three good members', members: cluster(3), errors: [], warnings: [] },
    { title: 'one member', members: cluster(1), errors: [], warnings: [] },
    { title: 'four members (even)', members: cluster(4), errors: [], warnings: ['restore.even-member-count'] },
    { title: 'no members', members: [], errors: ['restore.no-etcd-members'], warnings: [] },
    {
      title: 'duplicate names',
      members: [member(1), member(2, { name: 'etcd1' }), member(3)],
      errors: ['restore.duplicate-etcd-name'],
      warnings: [],
    },
    {
      title: 'duplicate peer URLs',
      members: [member(1), member(2, { peerUrl: 'https://10.0.0.1:2380' }), member(3)],
      errors: ['restore.duplicate-peer-url'],
      warnings: [],
    },
    { title: 'two tokens', members: [member(1), member(2, { token: 'other' }), member(3)], errors: ['restore.several-tokens'], warnings: [] },
    { title: 'a comma in a name', members: [member(1, { name: 'a,b' }), member(2), member(3)], errors: ['restore.bad-etcd-name'], warnings: [] },
    { title: 'a relative data dir', members: [member(1, { dataDir: 'etcd' }), member(2), member(3)], errors: ['restore.bad-data-dir'], warnings: [] },
    { title: 'the root as data dir', members: [member(1, { dataDir: '/' }), member(2), member(3)], errors: ['restore.bad-data-dir'], warnings: [] },
    {
      title: 'a peer URL that is not a URL',
      members: [member(1, { peerUrl: '10.0.0.1:2380' }), member(2), member(3)],
      errors: ['restore.bad-peer-url'],
      warnings: [],
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const result = checkIdentities(c.members);
      expect(result.errors.map((p) => p.code)).to.deep.equal(c.errors);
      expect(result.warnings.map((p) => p.code)).to.deep.equal(c.warnings);
      for (const p of [...result.errors, ...result.warnings]) expect(p.hint, p.code).to.be.a('string');
    });
  }
});

describe('restore paths', () => {
  it('puts everything beside the data dir with the run id in every name', () => {
    const p = restorePaths('/var/lib/etcd/', '20261115T101500Z');
    expect(p).to.deep.equal({
      dataDir: '/var/lib/etcd',
      parentDir: '/var/lib',
      snapshotCopy: '/var/lib/etcd.restore-20261115T101500Z.snapshot.db',
      newDir: '/var/lib/etcd.restore-20261115T101500Z',
      asideDir: '/var/lib/etcd.before-restore-20261115T101500Z',
      restoredAsideDir: '/var/lib/etcd.rolled-back-20261115T101500Z',
      uploadArchive: '/var/lib/etcd.restore-20261115T101500Z.tar',
      mode: 'rename',
      data: {
        live: '/var/lib/etcd',
        aside: '/var/lib/etcd.before-restore-20261115T101500Z',
        fresh: '/var/lib/etcd.restore-20261115T101500Z',
        rolledBack: '/var/lib/etcd.rolled-back-20261115T101500Z',
      },
    });
  });

  it('a data dir that is a mount point: the restore writes inside it and swaps its member/ folder, never renaming the mount', () => {
    const p = restorePaths('/var/lib/etcd', 'R1', { mode: 'inside', walDir: '/wal/', walMode: 'inside' });
    expect(p.newDir).to.equal('/var/lib/etcd/.orchestrate-restore-R1');
    expect(p.data).to.deep.equal({
      live: '/var/lib/etcd/member',
      aside: '/var/lib/etcd/member.before-restore-R1',
      fresh: '/var/lib/etcd/.orchestrate-restore-R1/member',
      rolledBack: '/var/lib/etcd/member.rolled-back-R1',
    });
    expect(p.snapshotCopy).to.equal('/var/lib/etcd.restore-R1.snapshot.db');
    expect(p.wal).to.deep.include({ dir: '/wal', mode: 'inside', fresh: '/wal/.orchestrate-restore-R1', aside: '/wal/.before-restore-R1' });
  });
  it('makes run ids that are UTC timestamps', () => {
    expect(newRunId(new Date('2026-11-15T10:15:00.123Z'))).to.equal('20261115T101500Z');
  });
});
