// The report document: self-contained (no script, nothing to load, a CSP that forbids loading), every
// section present, hostile names escaped.
import { expect } from 'chai';
import type { ClusterSurvey } from '../../../src/etcd/cluster/observe.js';
import { backupHistory } from '../../../src/report/backup-history.js';
import { renderReport, type ReportInput } from '../../../src/report/html-report.js';
import { restoreTimeline } from '../../../src/report/restore-timeline.js';
import { completedJournal, T0 } from './journal-builder.js';

function input(overrides: Partial<ReportInput> = {}): ReportInput {
  const survey: ClusterSurvey = {
    members: [
      {
        name: 'etcd-1',
        host: '10.0.0.1',
        endpoint: 'https://10.0.0.1:2379',
        ok: true,
        isLeader: true,
        revision: 42,
        dbSize: 20480,
        version: '3.4.23',
        durationMs: 3,
      },
      { name: 'etcd-2', host: '10.0.0.2', endpoint: 'https://10.0.0.2:2379', ok: false, error: 'connection refused', durationMs: 3 },
    ],
    candidates: [],
    leader: 'etcd-1',
  };
  return {
    cluster: 'etcd-cluster-0',
    inventoryFile: '/srv/inventory.yml',
    generatedAt: T0 + 60_000,
    restore: { timeline: restoreTimeline(completedJournal()), source: 'from the journal /srv/.orchestrate/restore-journal/etcd-cluster-0.json' },
    backups: backupHistory([], 'etcd-cluster-0', { now: T0 + 60_000 }),
    drills: [],
    drillFreshness: 'never proven restorable: no drill has passed; run orchestrate drill INVENTORY',
    freshness: ['no good backup recorded in the catalog'],
    status: { survey, at: T0 + 60_000 },
    ...overrides,
  };
}

describe('renderReport', () => {
  it('one self-contained file: inline CSS and SVG, no script, nothing to fetch, a CSP that forbids fetching', () => {
    const html = renderReport(input());
    expect(html.startsWith('<!DOCTYPE html>')).to.equal(true);
    expect(html).to.contain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'`);
    expect(html).not.to.match(/<script|<link|<iframe|<img|@import|@font-face|\bsrc=|\bhref=/i);
    expect(html.match(/url\(([^)]*)\)/g)).to.deep.equal(['url(#hatch)']);
    expect(html).to.contain('@media print');
  });

  it('the sections: the restore with its figures, backups, drills, status', () => {
    const html = renderReport(input());
    for (const id of ['restore', 'backups', 'drills', 'status']) expect(html).to.contain(`<section id="${id}">`);
    expect(html).to.contain('Last restore: run 20261201T100000Z-abcd, completed');
    expect(html).to.contain('RTO (wall time)</div><div class="figure-value">23s');
    expect(html).to.contain('API down</div><div class="figure-value">12s');
    expect(html).to.contain('1 of 2 members answer; leader etcd-1');
    expect(html).to.contain('DOWN: connection refused');
    expect(html).to.contain('never proven restorable');
  });

  it('without a journal, and with a cluster that does not answer', () => {
    const { restore: _unused, ...rest } = input();
    const html = renderReport({ ...rest, status: { error: 'etcd-1: no answer' } });
    expect(html).to.contain('No restore has been recorded for this cluster');
    expect(html).to.contain('The cluster did not answer: etcd-1: no answer');
  });

  it('a recovery by start as is: its own section (path, reason, data lost, members, phases), no older restore drawn', () => {
    const { restore: _unused, ...rest } = input();
    const html = renderReport({
      ...rest,
      recovery: {
        path: 'start as is',
        status: 'completed',
        reason: 'every member is intact <quorum>',
        lost: 'nothing lost (start as is)',
        wallMs: 4_200,
        diagnosisMs: 900,
        members: [{ name: 'etcd-1', host: '10.0.0.1', state: 'intact', revision: 42, detail: 'db and WAL sound' }],
        phases: [{ id: 'start-etcd', ms: 2_100 }],
      },
    });
    expect(html).to.contain('<section id="recovery">');
    expect(html).not.to.contain('<section id="restore">');
    expect(html).to.contain('Last recovery: start as is, completed');
    expect(html).to.contain('Why this way: every member is intact &#60;quorum&#62;');
    expect(html).to.contain('data lost</div><div class="figure-value">nothing lost (start as is)');
    expect(html).to.contain('<td>etcd-1 (10.0.0.1)</td><td>intact</td><td>42</td>');
    expect(html).to.contain('<td>start-etcd</td><td>2.1s</td>');
  });

  it('a recovery by restore: the recovery section, then the restore timeline', () => {
    const html = renderReport(
      input({ recovery: { path: 'rebuild from 10.0.0.1', status: 'completed', lost: '0 revision(s)', wallMs: 9_000, members: [], phases: [] } }),
    );
    expect(html.indexOf('<section id="recovery">')).to.be.greaterThan(0);
    expect(html.indexOf('<section id="restore">')).to.be.greaterThan(html.indexOf('<section id="recovery">'));
  });

  it('names from the inventory and the cluster are escaped', () => {
    const html = renderReport(input({ cluster: '</title><script>alert(1)</script>' }));
    expect(html).not.to.contain('<script>');
    expect(html).to.contain('&#60;/title&#62;&#60;script&#62;');
  });
});
