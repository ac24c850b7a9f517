import { expect } from 'chai';
import type { ClusterSurvey, MemberObservation as MemberSummary } from '../../../src/etcd/cluster/observe.js';
import type { SnapshotRow } from '../../../src/etcd/backup/snapshot-inventory.js';
import { statusReport, type RemoteStatusInput, type StatusInputs } from '../../../src/commands/status-report.js';
import { statusCommand } from '../../../src/commands/status.js';

const now = Date.parse('2026-11-20T12:00:00Z');
const hour = 3_600_000;

function member(index: number, ok: boolean): MemberSummary {
  const base = { name: `etcd${index}`, host: `10.0.0.${index}`, endpoint: `https://10.0.0.${index}:2379`, durationMs: 2 };
  if (!ok) return { ...base, ok: false, error: `connection refused at 10.0.0.${index}:2379 (etcd not running, or not listening there)` };
  return {
    ...base,
    ok: true,
    isLeader: index === 1,
    leaderId: 'a1',
    isLearner: false,
    memberId: `a${index}`,
    clusterId: 'c0ffee',
    revision: 42,
    dbSize: 20480,
    version: '3.4.23',
  };
}

function survey(upFlags: boolean[]): ClusterSurvey {
  const members = upFlags.map((ok, i) => member(i + 1, ok));
  const leader = members.find((m) => m.isLeader);
  return { members, candidates: members.filter((m) => m.ok), clusterId: 'c0ffee', ...(leader ? { leader: leader.name } : {}) };
}

function snapshot(ageMs: number): SnapshotRow {
  return {
    name: 'snapshot_x.db',
    path: '/backups/snapshot_x.db',
    takenAt: now - ageMs,
    size: 20512,
    revision: 42,
    keys: 7,
    status: 'ok',
    checked: 'catalog',
    isPointer: true,
    foreign: false,
  };
}

function inputs(upFlags: boolean[], ageMs: number | undefined, extra: Partial<StatusInputs> = {}): StatusInputs {
  return {
    cluster: 'prod',
    backupDir: '/backups',
    survey: survey(upFlags),
    newest: { ...(ageMs === undefined ? {} : { good: snapshot(ageMs) }), rejected: [] },
    now,
    maxAgeMs: 2 * hour,
    maxAgeText: '2h',
    requireAllMembers: false,
    ...extra,
  };
}

describe('status report (text, JSON, exit code)', () => {
  const cases: { title: string; up: boolean[]; ageMs?: number; require?: boolean; exit: number; lines: RegExp[] }[] = [
    {
      title: 'all healthy, fresh backup',
      up: [true, true, true],
      ageMs: hour,
      exit: 0,
      lines: [
        /^cluster prod \(id c0ffee\): 3\/3 members healthy, leader etcd1$/m,
        /^quorum held: 3 of 3 voting members healthy, needs 2 \(1 more failure\(s\) tolerated\)$/m,
        /^ok: the newest verified snapshot is 1h 0m old \(max 2h\)$/m,
      ],
    },
    {
      title: 'all healthy, stale backup',
      up: [true, true, true],
      ageMs: 3 * hour,
      exit: 6,
      lines: [/^STALE: the newest verified snapshot is 3h 0m old, more than --max-age 2h$/m],
    },
    {
      title: 'one member down, fresh: a warning, exit 0',
      up: [true, true, false],
      ageMs: hour,
      exit: 0,
      lines: [
        /^WARNING: member etcd3 is down: connection refused at 10\.0\.0\.3:2379 .*one more failure loses it$/m,
        /^etcd3\s+\S+\s+DOWN\s/m,
        /^ok: /m,
      ],
    },
    {
      title: 'one member down with --require-all-members: exit 7',
      up: [true, true, false],
      ageMs: hour,
      require: true,
      exit: 7,
      lines: [/^UNHEALTHY: member etcd3 is down: .*\(--require-all-members\)$/m],
    },
    {
      title: 'one member down, stale: 6 with the warning',
      up: [true, true, false],
      ageMs: 3 * hour,
      exit: 6,
      lines: [/^WARNING: member etcd3 is down/m, /^STALE: /m],
    },
    {
      title: 'two members down, fresh: exit 7 whatever the backup age',
      up: [true, false, false],
      ageMs: hour,
      exit: 7,
      lines: [
        /^UNHEALTHY: 1 of 3 members healthy, quorum needs 2: the cluster cannot serve writes \(etcd2: down, .*; etcd3: down, .*\)$/m,
        /^quorum LOST: 1 of 3 voting members healthy, needs 2$/m,
        /^ok: /m,
      ],
    },
    {
      title: 'every member down and no backup at all: 7, and both facts reported',
      up: [false, false, false],
      exit: 7,
      lines: [
        /^cluster prod: 0\/3 members healthy, leader none$/m,
        /^UNHEALTHY: 0 of 3 members healthy, quorum needs 2/m,
        /^STALE: no verified snapshot in \/backups$/m,
      ],
    },
    {
      title: 'two members down and stale: 7, stale reported too',
      up: [true, false, false],
      ageMs: 30 * hour,
      exit: 7,
      lines: [/^UNHEALTHY: /m, /^STALE: the newest verified snapshot is 30h 0m old/m],
    },
  ];
  for (const c of cases) {
    it(`${c.title} -> ${c.exit}`, () => {
      const report = statusReport(inputs(c.up, c.ageMs, { requireAllMembers: c.require === true }));
      expect(report.exitCode, report.text).to.equal(c.exit);
      expect(report.json.exitCode).to.equal(c.exit);
      for (const line of c.lines) expect(report.text).to.match(line);
      if (c.exit !== 7) expect(report.text).to.not.contain('UNHEALTHY');
      // The verdict lines come last: unhealthy, warnings, then the backup line.
      expect(report.text.trimEnd().split('\n').at(-1)).to.match(/^(ok|STALE): /);
    });
  }

  it('--json keeps every field it had and adds quorum, unhealthy, unhealthyReasons and warnings', () => {
    const report = statusReport(inputs([true, false, false], 3 * hour));
    const json = JSON.parse(JSON.stringify(report.json)) as Record<string, unknown>;
    for (const field of [
      'cluster',
      'members',
      'leader',
      'healthy',
      'newestVerifiedSnapshot',
      'rejectedSnapshots',
      'lastAttempt',
      'maxAgeSeconds',
      'stale',
      'verdict',
      'exitCode',
    ]) {
      expect(json, field).to.have.property(field);
    }
    expect(json.healthy).to.equal(1);
    expect(json.leader).to.equal('etcd1');
    expect(json.stale).to.equal(true);
    expect(json.verdict).to.equal('the newest verified snapshot is 3h 0m old, more than --max-age 2h');
    expect(json.maxAgeSeconds).to.equal(7200);
    expect((json.newestVerifiedSnapshot as { ageSeconds: number }).ageSeconds).to.equal(10_800);
    expect(json.quorum).to.deep.equal({ members: 3, needed: 2, healthy: 1, held: false });
    expect(json.unhealthy).to.equal(true);
    expect(json.unhealthyReasons).to.have.length(1);
    expect(json.warnings).to.deep.equal([]);
    expect(json.splitBrain).to.equal(false);
    expect(json.exitCode).to.equal(7);
    expect((json.memberStates as { state: string }[]).map((m) => m.state)).to.deep.equal(['healthy', 'down', 'down']);
  });

  it('split brain: the header lists every cluster id and every leader, the members are marked SPLIT', () => {
    const base = survey([true, true, true]);
    const members = base.members.map((m, i) => ({ ...m, clusterId: `c${i + 1}`, leaderId: m.memberId!, isLeader: true }));
    const report = statusReport({ ...inputs([true, true, true], hour), survey: { ...base, members } });
    expect(report.exitCode).to.equal(7);
    expect(report.text).to.match(/^cluster prod \(ids c1, c2, c3\): 1\/3 members healthy, leaders etcd1, etcd2, etcd3$/m);
    expect(report.text).to.match(/^etcd2\s+\S+\s+SPLIT\s+leader/m);
    expect(report.text).to.contain(
      'UNHEALTHY: split brain: the members disagree on the cluster id (etcd1 reports cluster id c1; etcd2 reports cluster id c2; etcd3 reports cluster id c3)',
    );
    expect(report.json.splitBrain).to.equal(true);
  });

  it('a member name from the cluster holding an escape sequence is shown escaped, never sent to the terminal', () => {
    const base = survey([true, true, true]);
    const members = base.members.map((m, i) => (i === 1 ? { ...m, memberName: 'evil\u001b]0;owned\u0007\r\nok: fake' } : m));
    const report = statusReport({ ...inputs([true, true, true], hour), survey: { ...base, members } });
    // eslint-disable-next-line no-control-regex -- control characters are what this looks for
    expect(report.text).to.not.match(/[\u0000-\u0009\u000b-\u001f]/);
    expect(report.text).to.contain('evil\\u001b]0;owned\\u0007\\r\\nok: fake');
  });

  it('a NOSPACE alarm shows in the HEALTH column and makes the cluster unhealthy (exit 7)', () => {
    const base = survey([true, true, true]);
    const members = base.members.map((m) => ({ ...m, alarms: ['memberID:1 alarm:NOSPACE '] }));
    const report = statusReport({ ...inputs([true, true, true], hour), survey: { ...base, members } });
    expect(report.exitCode).to.equal(7);
    expect(report.text).to.match(/^etcd1\s+\S+\s+healthy, alarm NOSPACE\s+leader/m);
    expect(report.text).to.match(/^UNHEALTHY: alarm NOSPACE reported by etcd1, etcd2 and etcd3/m);
  });

  it('--help documents --require-all-members and exit 7', async () => {
    let out = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk: string) => ((out += chunk), true);
    try {
      expect(await statusCommand(['--help'])).to.equal(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out).to.contain('--require-all-members');
    expect(out).to.match(/^ {12}7 unhealthy: /m);
  });

  describe('with backup_remote', () => {
    const remote = (ageMs: number | undefined, judge?: number, extra: Partial<RemoteStatusInput> = {}): RemoteStatusInput => ({
      where: 's3://b/prod/snapshots/',
      ...(ageMs === undefined
        ? {}
        : { newest: { takenAt: new Date(now - ageMs).toISOString(), url: 's3://b/prod/snapshots/prod/snapshot_x.db.age' } }),
      source: 'remote',
      warnings: [],
      ...(judge !== undefined ? { maxAgeMs: judge, maxAgeText: `${judge / hour}h` } : {}),
      ...extra,
    });

    it("shows the remote copy's age next to the local one; without --max-remote-age it is not judged", () => {
      const report = statusReport(inputs([true, true, true], hour, { remote: remote(10 * hour) }));
      expect(report.exitCode).to.equal(0);
      expect(report.text).to.match(
        /^newest verified remote copy: s3:\/\/b\/prod\/snapshots\/prod\/snapshot_x\.db\.age\n {2}taken .* \(10h 0m ago, from the remote catalog\)$/m,
      );
      expect(report.text).to.match(/^remote: the newest verified remote copy is 10h 0m old \(not judged: give --max-remote-age to alert on it\)$/m);
      expect(report.json.remote).to.deep.include({ stale: false, maxAgeSeconds: null });
    });

    it('--max-remote-age: a copy too old, or none, is stale (exit 6); a fresh one is ok', () => {
      const old = statusReport(inputs([true, true, true], hour, { remote: remote(7 * hour, 6 * hour) }));
      expect(old.exitCode).to.equal(6);
      expect(old.text).to.match(/^STALE: the newest verified remote copy is 7h 0m old, more than --max-remote-age 6h$/m);
      expect(old.text).to.match(/^ok: the newest verified snapshot is 1h 0m old \(max 2h\)$/m);
      const none = statusReport(inputs([true, true, true], hour, { remote: remote(undefined, 6 * hour) }));
      expect([none.exitCode, none.stale]).to.deep.equal([6, true]);
      expect(none.text).to.match(/^STALE: no verified remote copy in s3:\/\/b\/prod\/snapshots\/$/m);
      const fresh = statusReport(inputs([true, true, true], hour, { remote: remote(hour, 6 * hour) }));
      expect(fresh.exitCode).to.equal(0);
      expect(fresh.text).to.match(/^ok: the newest verified remote copy is 1h 0m old \(max 6h\)$/m);
    });

    it('an unhealthy cluster still wins (7); the attempt log fallback and the last failed attempt are shown', () => {
      const report = statusReport(
        inputs([true, false, false], hour, {
          remote: remote(7 * hour, 6 * hour, {
            source: 'attempt log',
            warnings: ['s3://b cannot be reached (ECONNREFUSED); the age comes from the local attempt log'],
            lastAttempt: { result: 'failed', end: '2026-11-20T11:00:00Z', error: 'upload failed after 5 tries: HTTP 503' },
          }),
        }),
      );
      expect(report.exitCode).to.equal(7);
      expect(report.text).to.match(/^WARNING: s3:\/\/b cannot be reached/m);
      expect(report.text).to.match(/from the local attempt log: the remote could not be reached\)$/m);
      expect(report.text).to.match(/^last remote copy attempt: failed at 2026-11-20T11:00:00Z: upload failed after 5 tries: HTTP 503$/m);
      expect(report.json.remote).to.deep.include({ source: 'attempt log', stale: true });
    });
  });
});

describe('status report: members the cluster names differently from the inventory', () => {
  it("shows the cluster's names, the leader by that name, and which inventory name each one is", () => {
    const base = inputs([true, true, true], hour);
    const renamed = { ...base.survey, members: base.survey.members.map((m, i) => ({ ...m, memberName: `master-0${i + 1}` })), leader: 'master-01' };
    const report = statusReport({ ...base, survey: renamed });
    expect(report.text).to.match(/^cluster prod \(id c0ffee\): 3\/3 members healthy, leader master-01$/m);
    expect(report.text).to.match(/^master-02 +https:\/\/10\.0\.0\.2:2379 /m);
    expect(report.text).to.match(
      /^member names as the cluster lists them; the inventory's: master-01 = etcd1, master-02 = etcd2, master-03 = etcd3$/m,
    );
  });
});
