import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inventory, InventoryHost } from '../../../src/config/types.js';
import type { Step, StepResult } from '../../../src/modules/step.js';
import { RunState } from '../../../src/modules/run-state.js';
import { drive as driveModule } from './drive.js';
import type { ModuleDefinition, ModuleOutcome } from '../../../src/modules/define.js';
import { judgeCertificates } from '../../../src/modules/restore/etcd-preflight.js';
import {
  dataMoveAsideModule,
  etcdPreflightModule,
  etcdRestoreModule,
  etcdRestoreOnDeployHostModule,
  etcdServiceModule,
  etcdSnapshotCopyModule,
  kubeServicesModule,
} from '../../../src/modules/restore/index.js';
import type { ExecResult } from '../../../src/transport/types.js';

const RUN = '20261115T101500Z';

function inventory(vars: Record<string, unknown> = {}): Inventory {
  const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.9'];
  const etcd = hosts.slice(0, 3);
  return {
    file: '/inv.yml',
    dir: '/',
    hosts: new Map<string, InventoryHost>(
      hosts.map((h) => [
        h,
        {
          name: h,
          vars: { etcd_ca_file: '/pki/ca.pem', etcd_cert_file: '/pki/etcd.pem', etcd_key_file: '/pki/etcd-key.pem', ...vars },
          groups: ['all'],
        },
      ]),
    ),
    groups: new Map([
      ['all', hosts],
      ['etcd', etcd],
      ['kube_master', etcd],
      ['kube_node', hosts],
    ]),
  };
}

/** The shared driver on the host's context; `answer` gives each step's result (an Error is thrown into the plan). */
async function drive<A>(
  module: ModuleDefinition<A>,
  host: string,
  args: Partial<A>,
  answer: (step: Step) => StepResult,
  inv = inventory(),
): Promise<{ steps: Step[]; outcome: ModuleOutcome }> {
  const hostEntry = inv.hosts.get(host)!;
  const ctx = { host: hostEntry, inventory: inv, vars: hostEntry.vars, dryRun: false, become: false, state: new RunState() };
  const driven = await driveModule(module, args, answer, ctx);
  return { steps: driven.steps, outcome: driven.outcome };
}
const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '', durationMs: 1 });
const command = (step: Step) => (step.kind === 'exec' ? step.command : step.kind);

let pki: string;
let goodPem: string;
before(() => {
  pki = mkdtempSync(join(tmpdir(), 'restore-pki-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(pki, 'k.pem'),
      '-out',
      join(pki, 'c.pem'),
      '-days',
      '30',
      '-subj',
      '/CN=etcd-test',
    ],
    { stdio: 'ignore' },
  );
  goodPem = readFileSync(join(pki, 'c.pem'), 'utf8');
});
after(() => rmSync(pki, { recursive: true, force: true }));

describe('certificate judgement', () => {
  it('accepts a valid certificate, warns near expiry, refuses an expired or not yet valid one', () => {
    const now = new Date();
    expect(judgeCertificates(goodPem, 'certificate', '/c.pem', now, 7)).to.deep.include({ problems: [], warnings: [] });
    expect(judgeCertificates(goodPem, 'certificate', '/c.pem', new Date(now.getTime() + 27 * 86_400_000), 7).warnings.join()).to.contain(
      'expires in 2 day(s)',
    );
    expect(judgeCertificates(goodPem, 'certificate', '/c.pem', new Date(now.getTime() + 31 * 86_400_000), 7).problems.join()).to.contain(
      'expired on',
    );
    expect(judgeCertificates(goodPem, 'certificate', '/c.pem', new Date(now.getTime() - 2 * 86_400_000), 7).problems.join()).to.contain(
      'not valid before',
    );
    expect(judgeCertificates(`${goodPem}${goodPem}`, 'CA file', '/ca.pem', now, 7).facts).to.have.length(2);
    expect(judgeCertificates('not a certificate', 'CA file', '/ca.pem', now, 7).problems.join()).to.contain('holds no PEM certificate');
  });
});

describe('etcd.preflight', () => {
  it('passes on a ready member and reports its facts (only read-only steps)', async () => {
    const { steps, outcome } = await drive(etcdPreflightModule, '10.0.0.2', { run_id: RUN, snapshot_bytes: 512 * 1024 }, (step) => {
      const c = command(step);
      if (c.startsWith('if mountpoint')) return ok('dir\n');
      if (c.startsWith('command -v')) return ok('/usr/bin/etcdctl\n');
      if (c.startsWith('if [ -d')) return ok('yes\n');
      if (c.startsWith('df -Pk')) return ok('Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/x 100 50 204800 50% /\n');
      if (c.startsWith('cat ')) return ok(goodPem);
      return ok();
    });
    expect(steps.every((s) => s.kind === 'exec' && s.readOnly === true)).to.equal(true);
    expect(steps.map(command)).to.deep.equal([
      'if mountpoint -q /var/lib/etcd 2>/dev/null || { [ -d /var/lib/etcd ] && [ "$(stat -c %d /var/lib/etcd)" != "$(stat -c %d /var/lib/etcd/..)" ]; }; then echo mount; else echo dir; fi',
      'command -v etcdutl || command -v etcdctl',
      'if [ -d /var/lib/etcd ]; then echo yes; else echo no; fi',
      'df -Pk /var/lib',
      'cat -- /pki/ca.pem',
      'cat -- /pki/etcd.pem',
      'test -r /pki/etcd-key.pem',
    ]);
    expect(outcome.failed).to.equal(false);
    expect(outcome.result).to.deep.include({ tool: 'etcdctl', had_old_data: true, free_kib: 204800, swap_mode: 'rename' });
  });

  it('collects every problem: no tool, too little disk, unreadable certificate, unreadable key', async () => {
    const { outcome } = await drive(etcdPreflightModule, '10.0.0.1', { run_id: RUN, snapshot_bytes: 1024 * 1024 }, (step) => {
      const c = command(step);
      if (c.startsWith('command -v')) return { ...ok(), exitCode: 1 };
      if (c.startsWith('df -Pk')) return ok('Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/x 100 50 2048 50% /\n');
      if (c === 'cat -- /pki/etcd.pem') return { ...ok(), exitCode: 1, stderr: 'cat: /pki/etcd.pem: No such file or directory' };
      if (c.startsWith('cat ')) return ok(goodPem);
      if (c.startsWith('test -r')) return { ...ok(), exitCode: 1 };
      return ok('no\n');
    });
    expect(outcome.failed).to.equal(true);
    const problems = (outcome.result?.problems as string[]).join('\n');
    expect(problems).to.contain('neither etcdutl nor etcdctl');
    expect(problems).to.contain('/var/lib has 2 MiB free; the restore needs 66 MiB there (snapshot copy + restored data + margin)');
    expect(problems).to.contain('the certificate /pki/etcd.pem is not readable');
    expect(problems).to.contain('key file /pki/etcd-key.pem is missing');
    expect(outcome.result?.had_old_data).to.equal(false);
  });

  it("checks the member's own copies of the TLS files where they live elsewhere there (kubeasz's ca_dir)", async () => {
    const inv = inventory({
      etcd_member_ca_file: '/etc/kubernetes/ssl/ca.pem',
      etcd_member_cert_file: '/etc/kubernetes/ssl/etcd.pem',
      etcd_member_key_file: '/etc/kubernetes/ssl/etcd-key.pem',
    });
    const { steps } = await drive(
      etcdPreflightModule,
      '10.0.0.2',
      { run_id: RUN },
      (step) => (command(step).startsWith('cat ') ? ok(goodPem) : ok('yes\n')),
      inv,
    );
    expect(steps.map(command).slice(-3)).to.deep.equal([
      'cat -- /etc/kubernetes/ssl/ca.pem',
      'cat -- /etc/kubernetes/ssl/etcd.pem',
      'test -r /etc/kubernetes/ssl/etcd-key.pem',
    ]);
  });

  it('fails on a host that is not an etcd member', async () => {
    const { steps, outcome } = await drive(etcdPreflightModule, '10.0.0.9', { run_id: RUN }, () => ok());
    expect(steps).to.deep.equal([]);
    expect(outcome.msg).to.contain('not in the etcd group');
  });
});

describe('restore modules', () => {
  it('etcd.snapshot-copy uploads 0600 beside the data dir, checked against the verified sha256, and refuses a mismatch', async () => {
    const sha = 'd'.repeat(64);
    const good = await drive(etcdSnapshotCopyModule, '10.0.0.1', { run_id: RUN, src: '/b/s.db', sha256: sha }, () => ({ bytes: 1, sha256: sha }));
    expect(good.steps).to.deep.equal([
      { kind: 'upload', source: { path: '/b/s.db' }, dest: `/var/lib/etcd.restore-${RUN}.snapshot.db`, mode: 0o600, sha256: sha },
    ]);
    expect(good.outcome.failed).to.equal(undefined);
    const bad = await drive(etcdSnapshotCopyModule, '10.0.0.1', { run_id: RUN, src: '/b/s.db', sha256: sha }, () => ({
      bytes: 1,
      sha256: 'e'.repeat(64),
    }));
    expect(bad.outcome.failed).to.equal(true);
  });

  it('etcd.restore finds the tool when asked for auto, and reports a failed restore with its stderr', async () => {
    const { steps, outcome } = await drive(etcdRestoreModule, '10.0.0.3', { run_id: RUN }, (step) =>
      command(step).startsWith('command -v')
        ? ok('/usr/local/bin/etcdutl\n')
        : { ...ok(), exitCode: 2, stderr: 'Error: snapshot missing hash but --skip-hash-check=false' },
    );
    expect(command(steps[1]!)).to.match(/^rm -rf \/var\/lib\/etcd\.restore-\S+ && etcdutl snapshot restore .* --name etcd-10\.0\.0\.3 /);
    expect(outcome.failed).to.equal(true);
    expect(outcome.msg).to.contain('missing hash');
  });

  it('etcd.restore-on-deploy-host refuses a member name that would make its scratch folder the work dir or its parent', async () => {
    // The name stands for one taken from the member's own unit (--name=..) where the inventory leaves etcd_name unset.
    for (const name of ['..', '.']) {
      const { steps, outcome } = await drive(
        etcdRestoreOnDeployHostModule,
        '10.0.0.1',
        { run_id: RUN, snapshot: '/b/s.db', tool: 'etcdutl', work_dir: '/tmp/orchestrate-restore-x' },
        () => ok(),
        inventory({ etcd_name: name }),
      );
      expect(steps, name).to.deep.equal([]);
      expect(outcome.failed, name).to.equal(true);
      expect(outcome.msg).to.contain('cannot name a folder on the deploy host');
    }
  });

  it('data.move-aside reports where the old data went, and "already-swapped" as unchanged', async () => {
    const swapped = await drive(dataMoveAsideModule, '10.0.0.1', { run_id: RUN }, () => ok('swapped\n'));
    expect(swapped.outcome).to.deep.include({ changed: true });
    expect(swapped.outcome.result).to.deep.include({ old_data_at: `/var/lib/etcd.before-restore-${RUN}`, outcome: 'swapped' });
    const again = await drive(dataMoveAsideModule, '10.0.0.1', { run_id: RUN }, () => ok('already-swapped\n'));
    expect(again.outcome.changed).to.equal(false);
  });

  it('kube.services stops in reverse order and skips hosts outside the group; etcd.service uses the member unit', async () => {
    const stop = await drive(kubeServicesModule, '10.0.0.9', { group: 'kube_master', state: 'stopped' }, () => ok());
    expect(stop.steps).to.deep.equal([]);
    expect(stop.outcome.skipped).to.equal(true);
    const node = await drive(kubeServicesModule, '10.0.0.9', { group: 'kube_node', state: 'stopped' }, () => ok());
    expect(command(node.steps[0]!)).to.match(/^systemctl stop kube-proxy kubelet \|\| exit \$\?; timeout 90 /);
    const etcd = await drive(etcdServiceModule, '10.0.0.1', { state: 'started' }, () => ok(), inventory({ etcd_service: 'etcd-main' }));
    expect(etcd.steps.map(command)).to.deep.equal(['systemctl start etcd-main']);
  });

  it('kubeadm (etcd_topology: static-pod or kubeadm): moves the static pod manifests aside and back, never touching kubelet', async () => {
    const refused = await drive(etcdServiceModule, '10.0.0.1', { state: 'stopped' }, () => ok(), inventory({ etcd_topology: 'static-pod' }));
    expect(refused.steps).to.deep.equal([]);
    expect(refused.outcome.msg).to.contain('run_id is needed');
    const stop = await drive(
      etcdServiceModule,
      '10.0.0.1',
      { state: 'stopped', run_id: RUN },
      () => ok('stopped\n'),
      inventory({ etcd_topology: 'kubeadm' }),
    );
    expect(command(stop.steps[0]!)).to.match(
      /^sh -c .* sh \/etc\/kubernetes\/manifests \/etc\/kubernetes\/orchestrate-aside-20261115T101500Z 90 etcd$/s,
    );
    const masters = await drive(
      kubeServicesModule,
      '10.0.0.1',
      { group: 'kube_master', state: 'started', run_id: RUN },
      () => ok('started\n'),
      inventory({ etcd_topology: 'kubeadm' }),
    );
    expect(command(masters.steps[0]!)).to.match(/ 90 kube-apiserver kube-controller-manager kube-scheduler$/);
    const workers = await drive(
      kubeServicesModule,
      '10.0.0.9',
      { group: 'kube_node', state: 'stopped', run_id: RUN },
      () => ok(),
      inventory({ etcd_topology: 'kubeadm' }),
    );
    expect(workers.steps).to.deep.equal([]);
    expect(workers.outcome.msg).to.equal('no kube_node services to stop');
  });
});
