// The per-member client against a real throwaway etcd over mTLS (127.0.103.3), a stopped member and a
// silent endpoint that accepts connections and never answers (127.0.103.4).
import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdMember } from '../../../src/config/types.js';
import { chooseSnapshotOrder, describeEtcdError, memberList, memberStatus, streamSnapshot, type MemberHealth } from '../../../src/etcd/client.js';
import { verifySnapshotFile } from '../../../src/etcd/snapshot-file.js';
import { putMany, startEtcd, type TestEtcd } from '../../helpers/etcd.js';

function memberOf(etcd: TestEtcd): EtcdMember {
  return {
    host: etcd.ip,
    name: etcd.name,
    address: etcd.ip,
    peerUrl: `http://${etcd.ip}:2380`,
    clientUrl: etcd.endpoint,
    dataDir: etcd.dataDir,
    token: 'test',
    caFile: etcd.tls!.caFile,
    certFile: etcd.tls!.certFile,
    keyFile: etcd.tls!.keyFile,
    service: 'etcd',
  };
}

describe('etcd client (per member, deadlines)', function () {
  this.timeout(120_000);
  let etcd: TestEtcd;
  let member: EtcdMember;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-client-'));
    etcd = await startEtcd({ ip: '127.0.103.3', tls: true });
    member = memberOf(etcd);
    await putMany(
      etcd,
      Array.from({ length: 200 }, (_, i) => ({ key: `k/${i}`, value: `v${i}` })),
    );
  });
  after(async () => {
    // undefined when before() failed before etcd started
    await (etcd as TestEtcd | undefined)?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads one member status over mTLS, ids in hex as etcdctl prints them', async () => {
    const result = await memberStatus(member);
    if (!result.ok) throw new Error(result.error);
    // uint64 ids lose precision through JSON.parse: read the digits as text.
    const text = await etcd.etcdctl(['endpoint', 'status', '-w', 'json']);
    const memberId = /"member_id":(\d+)/.exec(text)![1]!;
    const revision = Number(/"revision":(\d+)/.exec(text)![1]);
    expect(result.status.memberId).to.equal(BigInt(memberId).toString(16));
    expect(result.status.isLeader).to.equal(true);
    expect(result.status.revision).to.equal(revision);
    expect(result.status.version).to.equal('3.4.23');
    expect(result.status.dbSize).to.be.greaterThan(0);
    const list = await memberList(member);
    if (!list.ok) throw new Error(list.error);
    expect(list.members.map((m) => m.name)).to.deep.equal([etcd.name]);
  });

  it('streams a snapshot byte-identical to etcdctl snapshot save, under a temporary name until committed', async () => {
    const result = await streamSnapshot(member, join(dir, 'snap.db'), { verify: { requireHash: true } });
    if (!result.ok) throw new Error(result.error);
    const { snapshot } = result;
    expect(snapshot.report?.ok, JSON.stringify(snapshot.report?.problems)).to.equal(true);
    expect(snapshot.partialPath).to.match(/snap\.db\.partial-[0-9a-f]+$/);
    expect((await stat(snapshot.partialPath)).mode & 0o777).to.equal(0o600);
    const report = await verifySnapshotFile(snapshot.partialPath, { digests: snapshot.digests, requireHash: true });
    expect(report.ok).to.equal(true);
    expect(report.sha256).to.equal(snapshot.sha256);
    expect(snapshot.report!.status).to.deep.equal(report.status);
    await snapshot.commit(join(dir, 'snap.db'));
    await etcd.etcdctl(['snapshot', 'save', join(dir, 'ctl.db')]);
    expect((await readFile(join(dir, 'snap.db'))).equals(await readFile(join(dir, 'ctl.db')))).to.equal(true);
  });

  it('an interrupted stream leaves no file at all', async () => {
    await putMany(
      etcd,
      Array.from({ length: 60 }, (_, i) => ({ key: `big/${i}`, value: Buffer.alloc(1_000_000, i) })),
      4,
    );
    const controller = new AbortController();
    const work = join(dir, 'interrupt');
    await import('node:fs/promises').then((fs) => fs.mkdir(work));
    const running = streamSnapshot(member, join(work, 'snap.db'), { signal: controller.signal });
    // Abort as soon as data has reached the temporary file.
    for (let i = 0; i < 2000 && !controller.signal.aborted; i++) {
      const names = await readdir(work);
      const sizes = await Promise.all(
        names.map((n) =>
          stat(join(work, n)).then(
            (s) => s.size,
            () => 0,
          ),
        ),
      );
      if (sizes.some((s) => s > 0)) controller.abort();
      else await new Promise((r) => setTimeout(r, 2));
    }
    const result = await running;
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.error).to.match(/interrupted/);
    expect(await readdir(work)).to.deep.equal([]);
  });

  describe('members that do not answer', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    before(async () => {
      silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(2379, '127.0.103.4', resolve));
    });
    after(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('a silent endpoint costs the deadline, not forever (status and snapshot), and leaves no file', async () => {
      const quiet = { ...member, name: 'silent', clientUrl: 'https://127.0.103.4:2379' };
      let started = Date.now();
      const status = await memberStatus(quiet, { timeoutMs: 1000 });
      expect(status.ok).to.equal(false);
      expect(Date.now() - started).to.be.below(3500);
      started = Date.now();
      const work = join(dir, 'silent');
      await import('node:fs/promises').then((fs) => fs.mkdir(work));
      const snap = await streamSnapshot(quiet, join(work, 'snap.db'), { timeoutMs: 1000, idleTimeoutMs: 1500 });
      expect(snap.ok).to.equal(false);
      expect(Date.now() - started).to.be.below(5000);
      expect(await readdir(work)).to.deep.equal([]);
    });

    it('a stopped member fails within a second with "connection refused"', async () => {
      const stopped = await startEtcd({ ip: '127.0.103.5', tls: true });
      const target = memberOf(stopped);
      await stopped.stop();
      try {
        const started = Date.now();
        const status = await memberStatus(target, { timeoutMs: 5000 });
        expect(Date.now() - started).to.be.below(1500);
        expect(status.ok).to.equal(false);
        if (!status.ok) expect(status.error).to.match(/^connection refused at 127\.0\.103\.5:2379/);
      } finally {
        await stopped.destroy();
      }
    });
  });
});

describe('etcd client helpers', () => {
  const health = (name: string, state: 'leader' | 'follower' | 'down' | 'alarm' | 'learner'): MemberHealth => ({
    member: { host: name, name, address: name, peerUrl: '', clientUrl: '', dataDir: '', token: '', service: 'etcd' },
    result:
      state === 'down'
        ? { ok: false, error: 'connection refused', durationMs: 1 }
        : {
            ok: true,
            durationMs: 1,
            status: {
              memberId: name,
              clusterId: 'c',
              leader: 'L',
              isLeader: state === 'leader',
              isLearner: state === 'learner',
              revision: 1,
              dbSize: 1,
              dbSizeInUse: 1,
              raftTerm: 1,
              raftIndex: 1,
              version: '3.4.23',
              errors: state === 'alarm' ? ['NOSPACE'] : [],
            },
          },
  });
  const cases: [string, MemberHealth[], string[]][] = [
    ['followers first, then the leader', [health('a', 'leader'), health('b', 'follower'), health('c', 'follower')], ['b', 'c', 'a']],
    ['a down member is skipped', [health('a', 'follower'), health('b', 'down'), health('c', 'leader')], ['a', 'c']],
    ['only the leader left', [health('a', 'down'), health('b', 'leader'), health('c', 'down')], ['b']],
    ['alarms and learners are not used', [health('a', 'alarm'), health('b', 'learner'), health('c', 'leader')], ['c']],
    ['nobody', [health('a', 'down'), health('b', 'down')], []],
  ];
  for (const [name, input, order] of cases) {
    it(`orders snapshot candidates: ${name}`, () => {
      expect(chooseSnapshotOrder(input).map((h) => h.member.name)).to.deep.equal(order);
    });
  }

  it('shortens gRPC errors to what an operator needs', () => {
    expect(
      describeEtcdError('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.1:2379. Resolution note: '),
    ).to.equal('connection refused at 10.0.0.1:2379 (etcd not running, or not listening there)');
    expect(describeEtcdError('4 DEADLINE_EXCEEDED: Deadline exceeded after 1.002s')).to.equal('no answer before the deadline');
    expect(describeEtcdError('14 UNAVAILABLE: No connection established. Last error: Error: self-signed certificate in certificate chain')).to.match(
      /^TLS: .*check etcd_ca_file/,
    );
  });
});
