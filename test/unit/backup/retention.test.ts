import { expect } from 'chai';
import { checkPolicy, isoWeek, planRetention, type RetentionEntry, type RetentionPolicy } from '../../../src/etcd/backup/retention.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const H = 3_600_000;
const D = 24 * H;

/** Entries named by their age, e.g. `30m`, `3h`, `2d`; `!` marks an unverified file. */
function entries(...ages: string[]): RetentionEntry[] {
  return ages.map((spec) => {
    const verified = !spec.endsWith('!');
    const text = spec.replace('!', '');
    const value = Number(text.slice(0, -1));
    const unit = { m: 60_000, h: H, d: D }[text.slice(-1) as 'm' | 'h' | 'd'];
    return { name: spec, takenAt: NOW - value * unit, verified };
  });
}

describe('planRetention', () => {
  const cases: { name: string; entries: RetentionEntry[]; policy: RetentionPolicy; deleted: string[] }[] = [
    { name: 'no policy keeps everything', entries: entries('1h', '2h', '30d'), policy: {}, deleted: [] },
    { name: 'keep-last 2', entries: entries('1h', '2h', '3h', '4h'), policy: { keepLast: 2 }, deleted: ['3h', '4h'] },
    { name: 'keep-last larger than the count', entries: entries('1h', '2h'), policy: { keepLast: 10 }, deleted: [] },
    { name: 'ttl 1 day', entries: entries('1h', '23h', '25h', '3d'), policy: { ttlSeconds: 86_400 }, deleted: ['25h', '3d'] },
    {
      name: 'ttl never deletes the newest verified snapshot, however old',
      entries: entries('10d', '20d'),
      policy: { ttlSeconds: 3600 },
      deleted: ['20d'],
    },
    {
      name: 'unverified files are never counted and never deleted',
      entries: entries('1h!', '2h', '3h!', '4h'),
      policy: { keepLast: 1 },
      deleted: ['4h'],
    },
    {
      name: 'the newest verified is kept even when newer unverified files exist',
      entries: entries('1m!', '5d'),
      policy: { ttlSeconds: 60 },
      deleted: [],
    },
    {
      name: 'hourly 2: the newest of each of the last two hours with a snapshot',
      entries: entries('10m', '20m', '70m', '80m', '130m'),
      policy: { hourly: 2 },
      deleted: ['20m', '80m', '130m'],
    },
    {
      name: 'daily 3 over a week of twice-daily snapshots',
      entries: entries('1h', '13h', '25h', '37h', '49h', '61h', '73h'),
      policy: { daily: 3 },
      deleted: ['25h', '49h', '61h', '73h'],
    },
    { name: 'weekly 2', entries: entries('1d', '3d', '8d', '9d', '16d', '30d'), policy: { weekly: 2 }, deleted: ['3d', '9d', '16d', '30d'] },
    {
      name: 'policies combine: kept by any',
      entries: entries('1h', '2h', '3h', '2d', '10d'),
      policy: { keepLast: 2, daily: 2 },
      deleted: ['3h', '10d'],
    },
    {
      name: 'grandfather-father-son',
      entries: entries('30m', '90m', '5h', '26h', '50h', '8d', '15d', '40d'),
      policy: { hourly: 2, daily: 2, weekly: 3 },
      deleted: ['5h', '50h', '40d'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planRetention(c.entries, c.policy, NOW);
      expect(plan.delete.map((d) => d.entry.name).sort()).to.deep.equal([...c.deleted].sort());
      expect(plan.keep.length + plan.delete.length).to.equal(c.entries.length);
      for (const decision of [...plan.keep, ...plan.delete]) expect(decision.reasons.join('')).to.not.equal('');
    });
  }

  it('says why a snapshot is kept and why one goes', () => {
    const plan = planRetention(entries('1h', '2h', '3d'), { keepLast: 1, ttlSeconds: 86_400 }, NOW);
    expect(plan.keep.find((d) => d.entry.name === '1h')!.reasons).to.include('newest verified snapshot (never deleted)');
    expect(plan.keep.find((d) => d.entry.name === '2h')!.reasons).to.deep.equal(['younger than ttl 86400s']);
    expect(plan.delete[0]!.reasons[0]).to.match(/not among the newest 1, older than ttl 86400s/);
  });

  it('rejects nonsense numbers with the option name', () => {
    expect(checkPolicy({ keepLast: 0, ttlSeconds: -1, weekly: 1.5 })).to.deep.equal([
      '--keep-last must be a whole number of at least 1 (got 0)',
      '--weekly must be a whole number of at least 1 (got 1.5)',
      '--ttl must be a positive number of seconds (got -1)',
    ]);
    expect(checkPolicy({ keepLast: 3, daily: 7 })).to.deep.equal([]);
  });

  it('numbers ISO weeks like ISO 8601 (weeks start on Monday; week 1 holds the first Thursday)', () => {
    expect(isoWeek(Date.parse('2026-01-01T00:00:00Z'))).to.equal('2026-W01');
    expect(isoWeek(Date.parse('2027-01-01T00:00:00Z'))).to.equal('2026-W53');
    expect(isoWeek(Date.parse('2026-11-22T12:00:00Z'))).to.equal('2026-W47'); // a Sunday
    expect(isoWeek(Date.parse('2026-11-23T00:00:00Z'))).to.equal('2026-W48'); // the Monday after
  });
});
