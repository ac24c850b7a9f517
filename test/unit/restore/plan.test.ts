import { expect } from 'chai';
import type { EtcdMember, Inventory, InventoryHost } from '../../../src/config/types.js';
import { restorePaths } from '../../../src/modules/restore/paths.js';
import type { HostServices } from '../../../src/modules/restore/unit-commands.js';
import { RESTORE_PHASES, type RestoreJournal } from '../../../src/restore/journal.js';
import { buildRestorePlan, buildRollbackPlan, type PlanMember } from '../../../src/restore/plan.js';
import { previewPlan, type PrintablePhase } from '../../../src/restore/run-phases.js';
import { FakeTransport, type RecordedCall } from './fake-transport.js';
import { memberAt } from './members.js';

const RUN = '20261115T101500Z';
const SHA = 'b'.repeat(64);

function labInventory(n: number): { inventory: Inventory; members: EtcdMember[] } {
  const addresses = Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`);
  const hosts = new Map<string, InventoryHost>(
    addresses.map((a) => [
      a,
      { name: a, vars: { etcd_name: `etcd${a.split('.')[3]}`, etcd_cluster_token: 'tok' }, groups: ['all', 'etcd', 'kube_master', 'kube_node'] },
    ]),
  );
  const inventory: Inventory = {
    file: '/inv/hosts.yml',
    dir: '/inv',
    hosts,
    groups: new Map([
      ['all', addresses],
      ['etcd', addresses],
      ['kube_master', addresses],
      ['kube_node', addresses],
    ]),
  };
  const members = addresses.map((a) => memberAt(a, `etcd${a.split('.')[3]}`));
  return { inventory, members };
}

const services = (members: EtcdMember[]): HostServices[] =>
  members.map((m) => ({
    host: m.host,
    kubeNode: ['kubelet', 'kube-proxy'],
    kubeMaster: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
  }));

function planMembers(members: EtcdMember[]): PlanMember[] {
  return members.map((member) => ({ member, paths: restorePaths(member.dataDir, RUN), hadOldData: true, tool: 'etcdctl' }));
}

async function preview(
  n: number,
  mode: 'member' | 'deploy-host' = 'member',
): Promise<{ printable: PrintablePhase[]; calls: RecordedCall[]; members: EtcdMember[] }> {
  const { inventory, members } = labInventory(n);
  const plan = buildRestorePlan({
    runId: RUN,
    mode,
    members: planMembers(members),
    services: services(members),
    snapshot: { path: '/backups/snap.db', sha256: SHA, hasHash: true, revision: 42 },
    ...(mode === 'deploy-host' ? { deployHost: { tool: 'etcdctl' as const, workDir: '/tmp/work' } } : {}),
  });
  const calls: RecordedCall[] = [];
  const transports = new Map(members.map((m) => [m.host, new FakeTransport(m.host, calls)]));
  return { printable: await previewPlan(plan, inventory, transports), calls, members };
}

const stepsOf = (printable: PrintablePhase[], phase: string, host: string): string[] =>
  printable
    .find((p) => p.id === phase)
    ?.hosts.find((h) => h.host === host)
    ?.actions.flatMap((a) => a.steps) ?? [];

describe('restore plan', () => {
  for (const n of [1, 3, 5]) {
    it(`${n} member(s): the phases in order, each member's own identity, and no host contacted by the preview`, async () => {
      const { printable, calls, members } = await preview(n);
      expect(printable.map((p) => p.id)).to.deep.equal([...RESTORE_PHASES]);
      expect(calls, 'the preview ran nothing on any host').to.deep.equal([]);
      const cluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
      for (const m of members) {
        expect(stepsOf(printable, 'copy-snapshot', m.host)).to.deep.equal([
          `upload /backups/snap.db -> /var/lib/etcd.restore-${RUN}.snapshot.db (mode 0600)`,
        ]);
        const [restore] = stepsOf(printable, 'restore-data', m.host);
        expect(restore).to.contain(
          `ETCDCTL_API=3 etcdctl snapshot restore /var/lib/etcd.restore-${RUN}.snapshot.db --name ${m.name} --initial-cluster '${cluster}' --initial-cluster-token tok --initial-advertise-peer-urls ${m.peerUrl} --data-dir /var/lib/etcd.restore-${RUN}`,
        );
        expect(restore).not.to.contain('--skip-hash-check');
        expect(stepsOf(printable, 'stop-kube-node', m.host)[0]).to.match(/^\$ systemctl stop kube-proxy kubelet \|\| exit/);
        expect(stepsOf(printable, 'stop-kube-master', m.host)[0]).to.match(
          /^\$ systemctl stop kube-scheduler kube-controller-manager kube-apiserver \|\| exit/,
        );
        expect(stepsOf(printable, 'stop-etcd', m.host)[0]).to.match(/^\$ systemctl stop etcd \|\| exit/);
        expect(stepsOf(printable, 'swap-data', m.host)[0]).to.contain(
          `mv /var/lib/etcd /var/lib/etcd.before-restore-${RUN} && mv /var/lib/etcd.restore-${RUN} /var/lib/etcd`,
        );
        expect(stepsOf(printable, 'start-etcd', m.host)).to.deep.equal(['$ systemctl start etcd']);
        expect(stepsOf(printable, 'start-kube-master', m.host)[0]).to.match(
          /^\$ systemctl start kube-apiserver kube-controller-manager kube-scheduler \|\| exit/,
        );
        expect(stepsOf(printable, 'start-kube-node', m.host)[0]).to.match(/^\$ systemctl start kubelet kube-proxy \|\| exit/);
        expect(stepsOf(printable, 'cleanup', m.host)).to.deep.equal([`$ rm -f /var/lib/etcd.restore-${RUN}.snapshot.db`]);
      }
      expect(stepsOf(printable, 'verify-cluster', 'localhost')[0])
        .to.contain(`each of the ${n} members`)
        .and.to.contain('revision = 42');
    });
  }

  it('restores a raw db (no hash trailer) with --skip-hash-check', async () => {
    const { inventory, members } = labInventory(3);
    const plan = buildRestorePlan({
      runId: RUN,
      mode: 'member',
      members: planMembers(members),
      services: [],
      snapshot: { path: '/s.db', sha256: SHA, hasHash: false, revision: 1 },
    });
    const printable = await previewPlan(plan, inventory, new Map());
    expect(stepsOf(printable, 'restore-data', '10.0.0.1')[0]).to.contain('--skip-hash-check');
    expect(printable.find((p) => p.id === 'stop-kube-node')?.hosts).to.deep.equal([]);
  });

  it('second mode: restores on the deploy host, uploads an archive, unpacks it; the archive path is shown as deferred', async () => {
    const { printable, calls, members } = await preview(3, 'deploy-host');
    expect(calls).to.deep.equal([]);
    const m = members[1]!;
    const copy = stepsOf(printable, 'copy-snapshot', m.host);
    expect(copy[0]).to.match(/^\[on the deploy host\] ETCDCTL_API=3 etcdctl snapshot restore \/backups\/snap\.db --name etcd2 /);
    expect(copy[0]).to.contain('--data-dir /tmp/work/etcd2/data');
    expect(copy[1]).to.match(
      /^upload <deferred: \/tmp\/work\/etcd2\/data\.tar, made by the step above> -> \/var\/lib\/etcd\.restore-\d+T\d+Z\.tar \(mode 0600\)$/,
    );
    expect(stepsOf(printable, 'restore-data', m.host)[0]).to.contain(`tar -xf /var/lib/etcd.restore-${RUN}.tar -C /var/lib/etcd.restore-${RUN}`);
    expect(stepsOf(printable, 'cleanup', m.host)).to.deep.equal([]);
  });
});

describe('rollback plan', () => {
  const { members } = labInventory(3);
  const journal = (begun: RestoreJournal['begun']): RestoreJournal => ({
    version: 1,
    runId: RUN,
    clusterToken: 'tok',
    inventory: '/inv/hosts.yml',
    mode: 'member',
    status: 'in-progress',
    startedAt: '',
    updatedAt: '',
    snapshot: { path: '/s.db', sha256: SHA, size: 1, revision: 1, totalKey: 1, hasHash: true, takenAt: '' },
    members: Object.fromEntries(
      members.map((m) => [m.host, { name: m.name, paths: restorePaths(m.dataDir, RUN), hadOldData: true, service: 'etcd' }]),
    ),
    begun,
    done: {},
    marks: {},
  });
  const cases: { title: string; begun: RestoreJournal['begun']; phases: string[] }[] = [
    { title: 'nothing stopped yet: only the scratch goes', begun: ['copy-snapshot', 'restore-data'], phases: ['revert-data'] },
    {
      title: 'stopped, not swapped: scratch goes, everything starts again',
      begun: ['copy-snapshot', 'restore-data', 'stop-kube-node'],
      phases: ['revert-data', 'start-etcd', 'verify-cluster', 'start-kube-master', 'start-kube-node'],
    },
    {
      title: 'swapped: stop, swap back, start',
      begun: ['copy-snapshot', 'restore-data', 'stop-kube-node', 'stop-kube-master', 'stop-etcd', 'swap-data', 'start-etcd'],
      phases: [
        'stop-kube-node',
        'stop-kube-master',
        'stop-etcd',
        'revert-data',
        'start-etcd',
        'verify-cluster',
        'start-kube-master',
        'start-kube-node',
      ],
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const plan = buildRollbackPlan({ journal: journal(c.begun), members, services: services(members) });
      expect(plan.map((p) => p.id)).to.deep.equal(c.phases);
      const verify = plan.find((p) => p.id === 'verify-cluster');
      if (verify) expect(verify.hosts.get('localhost')?.[0]?.args).to.deep.include({ quorum_only: true });
    });
  }
});
