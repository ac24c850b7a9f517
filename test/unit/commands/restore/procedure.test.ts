// `orchestrate restore` runs playbooks/restore.yml through the engine: the preflight and the preview are
// passes of that file, so what it says is what the preview shows. Fake transports answer the members.
import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreCluster, restorePlaybookPath, type RestoreRunOptions } from '../../../../src/commands/restore/restore-run.js';
import type { PrintablePhase } from '../../../../src/commands/restore/events.js';
import type { Inventory, InventoryHost } from '../../../../src/config/types.js';
import { ConfigError, RefusedError } from '../../../../src/errors.js';
import type { MemberObservation } from '../../../../src/etcd/cluster/observe.js';
import type { ExecResult, Transport } from '../../../../src/transport/types.js';
import { FakeTransport, type RecordedCall } from './fake-transport.js';

const SNAPSHOT = 'test/fixtures/hostile/snapshot.db';
const isProbe = (command: string) => command.startsWith("printf 'orchestrate-access");
const readOnlyPrefixes = ["printf 'orchestrate-access", "sh -c 'm=$1", 'if mountpoint', 'command -v', 'if [ -d', 'df -P', 'cat ', 'test -r'];

/** How the fake members are configured; tests change it and `beforeEach` puts it back. */
const layout = { name: (host: string): string => `etcd-${host}`, manifest: undefined as ((host: string) => string) | undefined };

/** kubeadm's etcd manifest of a node named after its host's last octet, its data on a hostPath volume. */
function kubeadmManifest(host: string): string {
  const node = `master-0${host.split('.')[3] ?? ''}`;
  return [
    'apiVersion: v1',
    'kind: Pod',
    'spec:',
    '  containers:',
    '  - name: etcd',
    '    command:',
    '    - etcd',
    `    - --name=${node}`,
    '    - --data-dir=/var/lib/etcd',
    `    - --initial-advertise-peer-urls=https://${host}:2380`,
    `    - --advertise-client-urls=https://${host}:2379`,
    '    volumeMounts:',
    '    - { mountPath: /var/lib/etcd, name: etcd-data }',
    '  volumes:',
    '  - { name: etcd-data, hostPath: { path: /srv/etcd-data, type: DirectoryOrCreate } }',
  ].join('\n');
}

/** The member's own configuration (what etcd.member-config reads): a kubeasz unit, or kubeadm's manifest. */
function configAnswer(host: string, command: string): Partial<ExecResult> {
  const marker = /'(==orchestrate-[0-9a-f]+)'/.exec(command)?.[1] ?? '';
  if (layout.manifest)
    return {
      stdout: `${marker} pod etcd\n${marker} pod kube-apiserver\n${marker} file /etc/kubernetes/manifests/etcd.yaml\n${layout.manifest(host)}\n`,
    };
  const unit = [
    `${marker} unit /etc/systemd/system/etcd.service`,
    '[Service]',
    'ExecStart=/usr/bin/etcd \\',
    `  --name=${layout.name(host)} \\`,
    `  --initial-advertise-peer-urls=https://${host}:2380 \\`,
    `  --advertise-client-urls=https://${host}:2379 \\`,
    '  --data-dir=/var/lib/etcd',
  ];
  return { stdout: `${unit.join('\n')}\n` };
}

/** Members answer the preflight as a healthy, writable member with etcdctl would, as root unless told. */
function memberAnswers(uid = 0): (host: string, command: string) => Partial<ExecResult> {
  return (_host, command) => {
    if (isProbe(command)) return { stdout: `orchestrate-access ${uid} ${uid === 0 ? 'root' : 'deploy'}\nyes\n` };
    if (command.startsWith("sh -c 'm=$1; unit=$2")) return configAnswer(_host, command);
    if (command.startsWith('if mountpoint')) return { stdout: 'dir\n' };
    if (command.startsWith('if systemctl is-active --quiet kubelet')) return { stdout: 'kubelet active\ncrictl ok\n' };
    if (command.startsWith('command -v')) return { stdout: '/usr/bin/etcdctl\n' };
    if (command.startsWith('if [ -d')) return { stdout: 'yes\n' };
    if (command.startsWith('df -P'))
      return { stdout: 'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/x 100000000 1 90000000 1% /\n' };
    return {};
  };
}

const noCluster = (members: readonly { name: string; host: string; clientUrl: string }[]): Promise<MemberObservation[]> =>
  Promise.resolve(
    members.map((m) => ({ name: m.name, host: m.host, endpoint: m.clientUrl, ok: false, error: 'not asked in a unit test', durationMs: 0 })),
  );

describe('restore: playbooks/restore.yml is the procedure that runs', () => {
  let dir: string;
  beforeEach(() => {
    layout.name = (host) => `etcd-${host}`;
    layout.manifest = undefined;
    dir = mkdtempSync(join(tmpdir(), 'orchestrate-procedure-'));
    copyFileSync(SNAPSHOT, join(dir, 'snapshot.db'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function inventory(n: number, vars: Record<string, unknown> = {}, kubeOnly: string[] = []): Inventory {
    const members = Array.from({ length: n }, (_, i) => `127.0.0.${i + 1}`);
    const all = [...members, ...kubeOnly];
    const hosts = new Map<string, InventoryHost>(all.map((a) => [a, { name: a, vars: { etcd_cluster_token: 'tok', ...vars }, groups: ['all'] }]));
    return {
      file: join(dir, 'hosts.yml'),
      dir,
      hosts,
      groups: new Map([
        ['all', all],
        ['etcd', members],
        ['kube_master', members],
        ['kube_node', all],
      ]),
    };
  }

  async function preview(inv: Inventory, options: Partial<RestoreRunOptions> = {}, uid = 0) {
    const calls: RecordedCall[] = [];
    const openTransports = (specs: readonly { host: string }[]) =>
      Promise.resolve(new Map<string, Transport>(specs.map((s) => [s.host, new FakeTransport(s.host, calls, memberAnswers(uid))])));
    const outcome = await restoreCluster({
      inventory: inv,
      snapshot: join(dir, 'snapshot.db'),
      dryRun: true,
      observe: noCluster,
      connect: { openTransports },
      ...options,
    }).then(
      (report) => ({ report, error: undefined }),
      (error: unknown) => ({ report: undefined, error }),
    );
    return { ...outcome, calls };
  }

  const stepsOf = (plan: readonly PrintablePhase[], phase: string, host: string): string[] =>
    plan
      .find((p) => p.id === phase)
      ?.hosts.find((h) => h.host === host)
      ?.actions.flatMap((a) => a.steps) ?? [];

  it('the preview says why there is no data diff (the cluster does not answer; etcd_access: ssh); --no-diff leaves it out', async () => {
    const silent = await preview(inventory(3, { etcd_access: 'client' }));
    expect(silent.report?.dataDiff).to.deep.include({ ok: false });
    expect(silent.report?.dataDiff)
      .to.have.property('reason')
      .that.matches(/the cluster does not answer/);
    const overSsh = await preview(inventory(3, { etcd_access: 'ssh' }));
    expect(overSsh.report?.dataDiff)
      .to.have.property('reason')
      .that.matches(/etcd_access is ssh/);
    const without = await preview(inventory(3), { diff: false });
    expect(without.error).to.equal(undefined);
    expect(without.report).to.not.have.property('dataDiff');
  });

  for (const n of [1, 3, 5]) {
    it(`${n} member(s): the file's phases in order, each member's own identity, only read-only commands run`, async () => {
      const { report, error, calls } = await preview(inventory(n));
      expect(error).to.equal(undefined);
      const plan = report!.plan!;
      expect(plan.map((p) => p.id)).to.deep.equal([
        'copy-snapshot',
        'restore-data',
        'stop-kube-node',
        'stop-kube-master',
        'stop-etcd',
        'swap-data',
        'start-etcd',
        'verify-cluster',
        'start-kube-master',
        'start-kube-node',
        'cleanup',
      ]);
      for (const call of calls)
        expect(
          readOnlyPrefixes.some((p) => call.text.startsWith(p)),
          call.text,
        ).to.equal(true);
      const hosts = Array.from({ length: n }, (_, i) => `127.0.0.${i + 1}`);
      const cluster = hosts.map((h) => `etcd-${h}=https://${h}:2380`).join(',');
      const run = report!.runId;
      for (const h of hosts) {
        expect(stepsOf(plan, 'copy-snapshot', h)[0]).to.contain(`-> ${h}:/var/lib/etcd.restore-${run}.snapshot.db (mode 0600)`);
        const [restore] = stepsOf(plan, 'restore-data', h);
        expect(restore).to.contain(
          `snapshot restore /var/lib/etcd.restore-${run}.snapshot.db --name etcd-${h} --initial-cluster '${cluster}' --initial-cluster-token tok`,
        );
        expect(restore).not.to.contain('--skip-hash-check');
        expect(stepsOf(plan, 'stop-kube-node', h)[0]).to.match(/^\$ systemctl stop kube-proxy kubelet \|\| exit/);
        expect(stepsOf(plan, 'stop-etcd', h)[0]).to.match(/^\$ systemctl stop etcd \|\| exit/);
        expect(stepsOf(plan, 'swap-data', h)[0]).to.contain(`mv /var/lib/etcd /var/lib/etcd.before-restore-${run}`);
        expect(stepsOf(plan, 'cleanup', h)).to.deep.equal([`$ rm -f /var/lib/etcd.restore-${run}.snapshot.db`]);
      }
      expect(stepsOf(plan, 'verify-cluster', 'localhost')[0])
        .to.contain(`each of the ${n} members`)
        .and.to.contain('revision = 2');
    });
  }

  it('a raw db (no hash trailer) is restored with --skip-hash-check, and the preview says so', async () => {
    truncateSync(join(dir, 'snapshot.db'), 20480);
    const { report, error } = await preview(inventory(3));
    expect(error).to.equal(undefined);
    expect(stepsOf(report!.plan!, 'restore-data', '127.0.0.1')[0]).to.contain('--skip-hash-check');
    expect(report!.warnings.join()).to.contain('no sha256 trailer');
  });

  it('deploy-host mode: every dir restored here with its own identity and uploaded, then unpacked on the member', async () => {
    const { report, error } = await preview(inventory(3), { mode: 'deploy-host' });
    expect(error).to.equal(undefined);
    const copy = stepsOf(report!.plan!, 'copy-snapshot', '127.0.0.2');
    expect(copy[0]).to.match(/^\[on the deploy host\] .*snapshot restore .*--name etcd-127\.0\.0\.2 /);
    expect(copy[1]).to.match(
      /^upload file <deferred: .*data\.tar, made by the step above> \(deploy host\) -> 127\.0\.0\.2:\/var\/lib\/etcd\.restore-\w+\.tar/,
    );
    expect(stepsOf(report!.plan!, 'restore-data', '127.0.0.2')[0]).to.contain('tar');
  });

  it('a task the operator adds to a copy of the file shows in the preview, in its place', async () => {
    const copy = join(dir, 'my-restore.yml');
    const original = readFileSync(restorePlaybookPath, 'utf8');
    const notify = `- name: Tell the team
  hosts: etcd
  gather_facts: false
  tasks:
    - name: Post to the channel before anything stops
      shell: echo restoring {{ restore_run_id }}
      tags: [notify]

- name: Stop the kube_node services`;
    writeFileSync(copy, original.replace('- name: Stop the kube_node services', notify));
    const { report, error } = await preview(inventory(3), { playbook: copy });
    expect(error).to.equal(undefined);
    const ids = report!.plan!.map((p) => p.id);
    expect(ids.indexOf('notify')).to.equal(ids.indexOf('restore-data') + 1);
    expect(stepsOf(report!.plan!, 'notify', '127.0.0.3')).to.deep.equal([`$ echo restoring ${report!.runId}`]);
  });

  it('a copy of the file without a phase the command relies on is refused before any host is touched', async () => {
    const copy = join(dir, 'broken.yml');
    writeFileSync(copy, readFileSync(restorePlaybookPath, 'utf8').replace('tags: [swap-data]', 'tags: [swap]'));
    const { error, calls } = await preview(inventory(3), { playbook: copy });
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).problems[0]!.message).to.contain('has no task tagged "swap-data"');
    expect(calls).to.deep.equal([]);
  });

  it('the preflight refuses every host, kube-only ones included, whose commands do not run as root; member checks are skipped', async () => {
    const { error, calls } = await preview(inventory(2, {}, ['127.0.0.9']), {}, 2000);
    expect(error).to.be.instanceOf(RefusedError);
    const lines = (error as Error).message.split('\n').filter((line) => line.startsWith('  - '));
    expect(lines).to.have.length(3);
    for (const host of ['127.0.0.1', '127.0.0.2', '127.0.0.9'])
      expect(lines.some((l) => l.includes(host) && l.includes('set ansible_become: true'))).to.equal(true);
    expect(calls.filter((c) => c.text.startsWith('command -v'))).to.deep.equal([]);
    expect(calls.every((c) => isProbe(c.text))).to.equal(true);
  });

  for (const forks of [3, undefined]) {
    it(`--forks ${forks ?? '(default 50)'}: the hosts of a phase (12 kube_node hosts) are worked on ${forks ? 'at most 3 at a time' : 'all at once'}`, async () => {
      const nodes = Array.from({ length: 12 }, (_, i) => `127.0.1.${i + 1}`);
      const calls: RecordedCall[] = [];
      let inFlight = 0;
      let peak = 0;
      const answers = memberAnswers();
      // Each command takes 5 ms, so hosts worked on together overlap.
      const slow = async (host: string, command: string): Promise<Partial<ExecResult>> => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return answers(host, command);
      };
      const openTransports = (specs: readonly { host: string }[]) =>
        Promise.resolve(new Map<string, Transport>(specs.map((s) => [s.host, new FakeTransport(s.host, calls, slow)])));
      const report = await restoreCluster({
        inventory: inventory(3, {}, nodes),
        snapshot: join(dir, 'snapshot.db'),
        dryRun: true,
        observe: noCluster,
        connect: { openTransports },
        ...(forks ? { forks } : {}),
      });
      expect(report.plan!.find((p) => p.id === 'stop-kube-node')!.hosts).to.have.length(15);
      expect(new Set(calls.filter((c) => isProbe(c.text)).map((c) => c.host)).size).to.equal(15);
      if (forks) expect(peak).to.equal(3);
      else expect(peak).to.equal(15);
    });
  }

  it('the preflight passes as root through become, runs the member checks and checks the data dir parent', async () => {
    const { error, calls } = await preview(inventory(2, { ansible_become: true }, ['127.0.0.9']));
    expect(error).to.equal(undefined);
    expect(calls.find((c) => c.host === '127.0.0.1' && isProbe(c.text))?.text).to.contain('[ -w /var/lib ]');
    expect(calls.find((c) => c.host === '127.0.0.9' && isProbe(c.text))?.text).not.to.contain('[ -w');
    expect([...new Set(calls.filter((c) => c.text.startsWith('command -v')).map((c) => c.host))].sort()).to.deep.equal(['127.0.0.1', '127.0.0.2']);
  });

  it("an etcd_name set in the inventory that the member's unit contradicts is refused (exit 5) before anything changes, naming host, field, values and fix", async () => {
    layout.name = (host) => (host === '127.0.0.2' ? 'etcd2' : `etcd-${host}`);
    const inv = inventory(3);
    inv.hosts.get('127.0.0.2')!.vars.etcd_name = 'etcd-127.0.0.2';
    const { error, calls } = await preview(inv);
    expect(error).to.be.instanceOf(RefusedError);
    expect((error as Error).message).to.contain(
      '127.0.0.2: etcd_name is etcd-127.0.0.2 in the inventory, but /etc/systemd/system/etcd.service says etcd2; fix: set etcd_name: etcd2 for 127.0.0.2',
    );
    for (const call of calls)
      expect(
        readOnlyPrefixes.some((p) => call.text.startsWith(p)),
        call.text,
      ).to.equal(true);
  });

  it("names the inventory leaves at their default come from each member's unit, and the preview says so", async () => {
    layout.name = (host) => `node-${host.split('.')[3] ?? ''}`;
    const { report, error } = await preview(inventory(3));
    expect(error).to.equal(undefined);
    const restore = stepsOf(report!.plan!, 'restore-data', '127.0.0.2')[0];
    expect(restore).to.contain(
      "--name node-2 --initial-cluster 'node-1=https://127.0.0.1:2380,node-2=https://127.0.0.2:2380,node-3=https://127.0.0.3:2380'",
    );
    expect(report!.members.map((m) => m.name)).to.deep.equal(['node-1', 'node-2', 'node-3']);
  });

  it('two members claiming one name, and a live member list that disagrees, are refused', async () => {
    layout.name = () => 'same';
    const twice = await preview(inventory(2));
    expect((twice.error as Error).message).to.contain('127.0.0.1 and 127.0.0.2 both claim the member name same');
    layout.name = (host) => `etcd-${host}`;
    const live = (members: readonly { name: string; host: string; clientUrl: string }[]): Promise<MemberObservation[]> =>
      Promise.resolve(
        members.map((m) => ({
          name: m.name,
          host: m.host,
          endpoint: m.clientUrl,
          ok: true,
          durationMs: 1,
          members: members.map((x, i) => ({
            id: String(i),
            name: x.host === '127.0.0.3' ? 'old-name' : x.name,
            peerUrls: [`https://${x.host}:2380`],
          })),
        })),
      );
    const disagree = await preview(inventory(3), { observe: live });
    expect((disagree.error as Error).message).to.contain('127.0.0.3: the live cluster calls the member at https://127.0.0.3:2380 "old-name"');
  });

  it('kubeadm: each member read from its static pod manifest (name, data dir through its hostPath), the control plane moved by its manifests', async () => {
    layout.manifest = kubeadmManifest;
    const { report, error } = await preview(inventory(3));
    expect(error).to.equal(undefined);
    const plan = report!.plan!;
    expect(stepsOf(plan, 'restore-data', '127.0.0.1')[0])
      .to.contain('--name master-01')
      .and.to.contain('--data-dir /srv/etcd-data.restore-');
    expect(stepsOf(plan, 'stop-etcd', '127.0.0.1')[0]).to.match(
      /^\$ sh -c .* \/etc\/kubernetes\/manifests \/etc\/kubernetes\/orchestrate-aside-\w+ 90 etcd$/s,
    );
    expect(stepsOf(plan, 'stop-kube-master', '127.0.0.1')[0]).to.match(/ 90 kube-apiserver kube-controller-manager kube-scheduler$/);
    expect(stepsOf(plan, 'stop-kube-node', '127.0.0.1'), 'kubelet stays up').to.deep.equal(['(nothing to do: no kube_node services to stop)']);
    expect(stepsOf(plan, 'swap-data', '127.0.0.1')[0]).to.contain('mv /srv/etcd-data /srv/etcd-data.before-restore-');
  });
});
