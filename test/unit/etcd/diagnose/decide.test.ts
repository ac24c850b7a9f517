// The recovery decision as a table: what diagnosis found on each member in, the way out and its reason out.
import { expect } from 'chai';
import type { MemberObservation } from '../../../../src/etcd/cluster/observe.js';
import { decideRecovery, type RecoveryChoice, type RecoveryInput } from '../../../../src/etcd/diagnose/decide.js';
import type { DbFacts } from '../../../../src/etcd/diagnose/db.js';
import type { MemberDiagnosis } from '../../../../src/etcd/diagnose/member-state.js';
import type { WalFacts } from '../../../../src/etcd/diagnose/wal.js';

const CLUSTER = 'c1';
type Kind =
  | 'healthy'
  | 'no-leader'
  | 'intact'
  | 'wal-corrupt'
  | 'wal-truncated'
  | 'wal-torn'
  | 'db-bad'
  | 'empty'
  | 'unreachable'
  | 'cert'
  | 'foreign'
  | 'db-ahead';

function db(revision: number, index: number, ok = true): DbFacts {
  return {
    ok,
    problems: ok ? [] : ['no valid meta page'],
    warnings: [],
    size: 1 << 20,
    mtime: 1_000,
    revision,
    consistentIndex: index,
    term: 2,
    pagesRead: 4,
  };
}

function wal(state: WalFacts['state'], lastIndex: number, clusterId = CLUSTER, nodeId = 'n'): WalFacts {
  return {
    state,
    files: [{ name: '0000000000000000-0000000000000000.wal', size: 64_000_000 }],
    records: 10,
    bytesRead: 1,
    lastIndex,
    lastTerm: 2,
    commitIndex: lastIndex,
    term: 2,
    vote: '0',
    snapshotIndex: 0,
    snapshotTerm: 0,
    lastRecordOffset: 0,
    endOffset: 0,
    clusterId,
    nodeId,
    ...(state === 'intact' || state === 'torn-tail' ? {} : { problem: `${state} at offset 100` }),
  };
}

const down: MemberObservation = { name: '', host: '', endpoint: '', ok: false, error: 'connection refused', durationMs: 1 };

/** A member of kind `kind` whose db has applied `index` (revision = index - 5). */
function member(i: number, kind: Kind, index = 100): MemberDiagnosis {
  const host = `10.0.0.${i}`;
  const base: MemberDiagnosis = {
    host,
    name: `etcd${i}`,
    readErrors: [],
    certificates: [{ file: '/etc/etcd/etcd.pem', role: '--cert-file', notAfter: '2030-01-01T00:00:00.000Z', daysLeft: 1000 }],
    observation: { ...down, name: `etcd${i}`, host },
    serviceActive: false,
    dataDir: true,
    memberDir: true,
    db: db(index - 5, index),
    wal: wal('intact', index + 2, CLUSTER, `n${i}`),
    lastWrite: 1_010,
  };
  switch (kind) {
    case 'healthy':
    case 'no-leader':
      return {
        ...base,
        observation: {
          name: `etcd${i}`,
          host,
          endpoint: '',
          ok: true,
          durationMs: 1,
          memberId: `n${i}`,
          clusterId: CLUSTER,
          leaderId: kind === 'healthy' ? 'n1' : '0',
          isLeader: i === 1 && kind === 'healthy',
          revision: index,
          members: [1, 2, 3, 4, 5].map((n) => ({ id: `n${n}`, name: `etcd${n}`, peerUrls: [] })),
        },
      };
    case 'intact':
      return base;
    case 'wal-corrupt':
      return { ...base, wal: wal('corrupt', index - 10) };
    case 'wal-truncated':
      return { ...base, wal: wal('truncated', index - 10) };
    case 'wal-torn':
      return { ...base, wal: wal('torn-tail', index + 1, CLUSTER, `n${i}`) };
    case 'db-bad':
      return { ...base, db: db(0, 0, false) };
    case 'db-ahead':
      return { ...base, wal: wal('intact', index - 20, CLUSTER, `n${i}`) };
    case 'empty':
      return {
        host,
        name: `etcd${i}`,
        readErrors: [],
        certificates: [],
        observation: { ...down, name: `etcd${i}`, host },
        dataDir: false,
        memberDir: false,
      };
    case 'unreachable':
      return {
        host,
        name: `etcd${i}`,
        readErrors: [],
        certificates: [],
        observation: { ...down, name: `etcd${i}`, host },
        unreachable: 'connect ETIMEDOUT',
      };
    case 'cert':
      return {
        ...base,
        certificates: [
          {
            file: '/etc/etcd/etcd.pem',
            role: '--cert-file',
            notAfter: '2026-01-01T00:00:00.000Z',
            daysLeft: -300,
            problem: 'expired on 2026-01-01T00:00:00.000Z',
          },
        ],
      };
    case 'foreign':
      return { ...base, wal: wal('intact', index + 2, 'other-cluster', `n${i}`) };
  }
}

function input(kinds: Kind[], extra: Partial<RecoveryInput> = {}, indexes: number[] = []): RecoveryInput {
  return { members: kinds.map((k, i) => member(i + 1, k, indexes[i] ?? 100)), ...extra };
}

const snapshot = { path: '/backups/snapshot_x.db', revision: 50, takenAt: '1970-01-01T00:05:00.000Z' };

function summary(choice: RecoveryChoice): string {
  switch (choice.kind) {
    case 'start':
      return `start ${choice.start.join(',') || '-'} replace ${choice.replace.join(',') || '-'} leave ${choice.leave.map((l) => l.host).join(',') || '-'}`;
    case 'rebuild':
      return `rebuild ${choice.source}`;
    case 'snapshot':
      return `snapshot ${choice.snapshot.path}`;
    default:
      return choice.kind;
  }
}

describe('decideRecovery', () => {
  const table: { name: string; given: RecoveryInput; expect: string; reason?: RegExp }[] = [
    { name: 'every member healthy: nothing to do', given: input(['healthy', 'healthy', 'healthy']), expect: 'nothing' },
    {
      name: 'power cut, every data dir intact: start all as they are',
      given: input(['intact', 'intact', 'intact']),
      expect: 'start 10.0.0.1,10.0.0.2,10.0.0.3 replace - leave -',
      reason: /loses nothing/,
    },
    {
      name: 'a torn last record counts as intact (etcd cuts it off)',
      given: input(['intact', 'wal-torn', 'intact']),
      expect: 'start 10.0.0.1,10.0.0.2,10.0.0.3 replace - leave -',
    },
    {
      name: 'one WAL corrupt: start the other two, replace it',
      given: input(['intact', 'wal-corrupt', 'intact']),
      expect: 'start 10.0.0.1,10.0.0.3 replace 10.0.0.2 leave -',
    },
    {
      name: 'one WAL truncated: replace it',
      given: input(['wal-truncated', 'intact', 'intact']),
      expect: 'start 10.0.0.2,10.0.0.3 replace 10.0.0.1 leave -',
    },
    {
      name: 'a db that applied more than its WAL holds is damaged',
      given: input(['db-ahead', 'intact', 'intact']),
      expect: 'start 10.0.0.2,10.0.0.3 replace 10.0.0.1 leave -',
    },
    {
      name: 'data of another cluster is damaged',
      given: input(['intact', 'intact', 'foreign']),
      expect: 'start 10.0.0.1,10.0.0.2 replace 10.0.0.3 leave -',
    },
    {
      name: 'quorum still up, one member stopped and one empty: start one, replace one',
      given: input(['healthy', 'intact', 'empty']),
      expect: 'start 10.0.0.2 replace 10.0.0.3 leave -',
    },
    {
      name: 'running members without a leader count for the quorum',
      given: input(['no-leader', 'intact', 'db-bad']),
      expect: 'start 10.0.0.1,10.0.0.2 replace 10.0.0.3 leave -',
    },
    {
      name: '5 members, 3 intact: start 3, replace 2',
      given: input(['intact', 'wal-corrupt', 'intact', 'db-bad', 'intact']),
      expect: 'start 10.0.0.1,10.0.0.3,10.0.0.5 replace 10.0.0.2,10.0.0.4 leave -',
    },
    {
      name: 'an expired certificate is left alone when the others hold the quorum',
      given: input(['intact', 'cert', 'intact']),
      expect: 'start 10.0.0.1,10.0.0.3 replace - leave 10.0.0.2',
    },
    {
      name: 'an unreachable member is left alone when the others hold the quorum',
      given: input(['intact', 'intact', 'unreachable']),
      expect: 'start 10.0.0.1,10.0.0.2 replace - leave 10.0.0.3',
    },
    {
      name: 'certificates block the quorum the data would have: refuse, no restore',
      given: input(['intact', 'cert', 'cert']),
      expect: 'refuse',
      reason: /renew those certificates|certificates stop/,
    },
    {
      name: 'majority damaged: rebuild from the freshest sound db',
      given: input(['wal-corrupt', 'intact', 'wal-corrupt'], { snapshot }, [120, 100, 90]),
      expect: 'rebuild 10.0.0.1',
      reason: /no quorum/,
    },
    {
      name: 'majority damaged, the intact member is not the freshest db: still the freshest',
      given: input(['intact', 'wal-corrupt', 'db-bad'], {}, [100, 130, 0]),
      expect: 'rebuild 10.0.0.2',
    },
    {
      name: 'no quorum and an unreachable member: refuse (it may hold the freshest data)',
      given: input(['intact', 'wal-corrupt', 'unreachable']),
      expect: 'refuse',
      reason: /could not be read/,
    },
    {
      name: 'every db damaged: the newest snapshot',
      given: input(['db-bad', 'db-bad', 'empty'], { snapshot }),
      expect: 'snapshot /backups/snapshot_x.db',
    },
    {
      name: 'a snapshot newer than every db wins over a rebuild',
      given: input(['db-bad', 'wal-corrupt', 'empty'], { snapshot: { ...snapshot, revision: 500 } }, [0, 100, 0]),
      expect: 'snapshot /backups/snapshot_x.db',
    },
    { name: 'nothing sound and no snapshot: refuse', given: input(['db-bad', 'db-bad', 'empty']), expect: 'refuse' },
    {
      name: '--from snapshot overrides a possible start',
      given: input(['intact', 'intact', 'intact'], { snapshot, from: { kind: 'snapshot' } }),
      expect: 'snapshot /backups/snapshot_x.db',
    },
    {
      name: '--from MEMBER (by name) overrides',
      given: input(['intact', 'intact', 'wal-corrupt'], { from: { kind: 'member', host: 'etcd3' } }),
      expect: 'rebuild 10.0.0.3',
    },
    {
      name: '--from a member whose db is not sound is refused',
      given: input(['intact', 'intact', 'db-bad'], { from: { kind: 'member', host: '10.0.0.3' } }),
      expect: 'refuse',
      reason: /not sound/,
    },
    {
      name: '--from snapshot without one is refused',
      given: input(['db-bad', 'db-bad', 'db-bad'], { from: { kind: 'snapshot' } }),
      expect: 'refuse',
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const decision = decideRecovery(row.given);
      expect(summary(decision.choice)).to.equal(row.expect);
      if (row.reason)
        expect(decision.choice.kind === 'nothing' ? decision.choice.reason : 'reason' in decision.choice ? decision.choice.reason : '').to.match(
          row.reason,
        );
    });
  }

  it('says what each way out loses: nothing for a start, the unapplied entries for a rebuild, everything after the snapshot', () => {
    const decision = decideRecovery(input(['wal-corrupt', 'intact', 'wal-corrupt'], { snapshot }, [120, 100, 90]));
    const [start, rebuild, snap] = decision.options;
    expect(start!.possible).to.equal(false);
    expect(rebuild).to.include({ possible: true, source: '10.0.0.1', lostRevisions: 0 });
    expect(rebuild!.lostEntries).to.equal(0);
    expect(snap).to.include({ possible: true, lostRevisions: 115 - 50 });
    // The last write was at t=1010 s, the snapshot taken at t=300 s.
    expect(snap!.lostMs).to.equal(710_000);
    expect(decision.freshestRevision).to.equal(115);
  });
});
