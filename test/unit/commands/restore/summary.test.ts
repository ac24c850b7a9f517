import { expect } from 'chai';
import type { EtcdMember } from '../../../../src/config/types.js';
import { ExitCode } from '../../../../src/errors.js';
import { restorePaths } from '../../../../src/etcd/restore/paths.js';
import type { JournalStatus, RestoreJournal } from '../../../../src/etcd/restore/journal.js';
import { interruptedFailure } from '../../../../src/commands/restore/summary.js';
import { rollbackExitCode, rollbackMemberLines } from '../../../../src/commands/restore/rollback-run.js';
import { memberAt } from '../../etcd/restore/members.js';

const RUN = '20261122T101500Z';
const FILE = '/inv/.orchestrate/restore-journal/tok.json';
const members: EtcdMember[] = ['10.0.0.1', '10.0.0.2'].map((a, i) => memberAt(a, `etcd${i + 1}`));

function journal(begun: RestoreJournal['begun'], status: JournalStatus = 'in-progress'): RestoreJournal {
  return {
    version: 1,
    runId: RUN,
    clusterToken: 'tok',
    inventory: '/inv/hosts.yml',
    mode: 'member',
    status,
    startedAt: '',
    updatedAt: '',
    snapshot: { path: '/s.db', sha256: 'b'.repeat(64), size: 1, revision: 1, totalKey: 1, hasHash: true, takenAt: '' },
    members: Object.fromEntries(
      members.map((m) => [m.host, { name: m.name, paths: restorePaths(m.dataDir, RUN), hadOldData: true, service: 'etcd' }]),
    ),
    begun,
    done: {},
    marks: {},
  };
}

describe('a restore interrupted with Ctrl-C: what the report says', () => {
  const cases: { title: string; begun: RestoreJournal['begun']; failed?: string; last?: string; where: string; down?: RegExp }[] = [
    {
      title: 'during a phase that failed on the signal',
      begun: ['copy-snapshot'],
      failed: 'copy-snapshot',
      last: 'copy-snapshot',
      where: 'interrupted during copy-snapshot',
    },
    {
      title: 'after a phase that completed (the signal came while its last command ran)',
      begun: ['copy-snapshot', 'restore-data'],
      last: 'restore-data',
      where: 'interrupted after restore-data',
    },
    { title: 'before any phase ran', begun: [], where: 'interrupted before the first phase' },
    {
      title: 'with kube_node stopped',
      begun: ['copy-snapshot', 'restore-data', 'stop-kube-node'],
      last: 'stop-kube-node',
      where: 'after stop-kube-node',
      down: /until then the kube_node services stay stopped$/,
    },
    {
      title: 'with the API stopped',
      begun: ['copy-snapshot', 'restore-data', 'stop-kube-node', 'stop-kube-master'],
      failed: 'stop-kube-master',
      where: 'during stop-kube-master',
      down: /the Kubernetes API is down\)$/,
    },
    {
      title: 'with etcd stopped and the swap not begun',
      begun: ['copy-snapshot', 'restore-data', 'stop-kube-node', 'stop-kube-master', 'stop-etcd'],
      last: 'stop-etcd',
      where: 'interrupted after stop-etcd',
      down: /until then etcd stays stopped \(the cluster and the Kubernetes API are down\)$/,
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const text = interruptedFailure(journal(c.begun), FILE, c.failed, c.last);
      expect(text).to.contain(c.where);
      expect(text).to.contain(`the journal ${FILE}`).and.to.contain('run the same command again to continue, or --rollback to undo');
      if (c.down) expect(text).to.match(c.down);
      else expect(text).not.to.contain('until then');
    });
  }

  it('says nothing stays down once etcd was started again', () => {
    const begun: RestoreJournal['begun'] = [
      'copy-snapshot',
      'restore-data',
      'stop-kube-node',
      'stop-kube-master',
      'stop-etcd',
      'swap-data',
      'start-etcd',
    ];
    expect(interruptedFailure(journal(begun), FILE, undefined, 'verify-cluster')).not.to.contain('until then');
  });
});

describe('--rollback: exit code and preview', () => {
  it('exits 0 when the old data is back, and when there was only scratch to drop (nothing was moved); 3 otherwise', () => {
    expect(rollbackExitCode('rolled-back')).to.equal(ExitCode.ok);
    expect(rollbackExitCode('aborted')).to.equal(ExitCode.ok);
    expect(rollbackExitCode('rollback-failed')).to.equal(ExitCode.failed);
    expect(rollbackExitCode('rolling-back')).to.equal(ExitCode.failed);
  });

  it('previews a swap back only when the restore may have swapped', () => {
    const notSwapped = rollbackMemberLines(
      journal(['copy-snapshot', 'restore-data', 'stop-kube-node', 'stop-kube-master', 'stop-etcd'], 'rollback-failed'),
      members,
    );
    expect(notSwapped).to.deep.equal(
      members.map(
        (m) => `  ${m.name} (${m.host}): /var/lib/etcd was never moved (it stays); /var/lib/etcd.restore-${RUN} and the snapshot copy are removed`,
      ),
    );
    const swapped = rollbackMemberLines(
      journal(['copy-snapshot', 'restore-data', 'stop-kube-node', 'stop-kube-master', 'stop-etcd', 'swap-data'], 'completed'),
      members,
    );
    expect(swapped[0]).to.equal(
      `  etcd1 (10.0.0.1): /var/lib/etcd.before-restore-${RUN} -> /var/lib/etcd; the restored data goes to /var/lib/etcd.rolled-back-${RUN}`,
    );
  });
});
