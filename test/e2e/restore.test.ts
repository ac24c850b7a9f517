// End-to-end: `orchestrate restore` on labs of real hosts (sshd + etcd 3.4 under TLS, kubeasz-style units),
// 3 members on 127.0.105 and 5 members on 127.0.106. Needs root. The CLI runs as a child process, with no
// terminal, exactly as an operator (or CI) would run it.
import { expect } from 'chai';
import { copyFile, mkdir, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadInventory } from '../../src/config/inventory.js';
import { etcdMembers } from '../../src/config/etcd-vars.js';
import { waitForVerifiedCluster } from '../../src/etcd/cluster/wait.js';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { damage, keyValues, memberStatuses, putKey, waitHealthy } from '../helpers/lab-data.js';
import { etcdctlInLab, readSystemctlLog, sshToLabHost, startLab, stopLab, tempLabDir, type LabInfo, type SystemctlEvent } from '../helpers/lab.js';

/** Runs the CLI from source with no terminal on stdin (like CI). */
function orchestrate(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCliFromSource(args, { ...(options.env ? { env: options.env } : {}), timeoutMs: options.timeoutMs ?? 240_000 });
}

interface JsonReport {
  type: 'report';
  status: string;
  runId: string;
  resumed: boolean;
  exitCode: number;
  failure?: string;
  members: { host: string; name: string; dataDir: string; oldDataAt?: string; restoredDataAt?: string }[];
  verdict?: { ok: boolean; leader?: { name: string }; revision?: number; problems: string[] };
  rollback?: { status: string; problems: string[]; warnings: string[] };
  rto: { wallMs: number; apiDowntimeMs?: number; phases: { id: string; ms: number }[] };
}

function reportOf(result: CliResult): JsonReport {
  const line = result.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"type":"report"'));
  if (!line) throw new Error(`no JSON report in the output (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(line) as JsonReport;
}

async function memberList(lab: LabInfo): Promise<string[]> {
  const result = await etcdctlInLab(lab, ['member', 'list', '-w', 'simple'], [lab.hosts[0]!.address]);
  if (result.code !== 0) throw new Error(`member list failed: ${result.stderr}`);
  // id, status, name, peer urls, client urls
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => line.split(', ').slice(2, 4).join(' '))
    .sort();
}

/** A fingerprint of everything a restore could change on the hosts: service start/stop log and the data dirs. */
async function hostState(lab: LabInfo): Promise<string[]> {
  return Promise.all(
    lab.hosts.map(async (host) => {
      const log = await readSystemctlLog(lab, host.address);
      const listing = await sshToLabHost(
        lab,
        host.address,
        "ls -1a /var/lib | grep '^etcd' ; ls -1 /var/lib/etcd/member/snap /var/lib/etcd/member/wal",
      );
      return `${host.address}: ${log.length} systemctl events; ${listing.stdout.trim().split('\n').join(' ')}`;
    }),
  );
}

/** Take a snapshot into the inventory's backup_dir: `orchestrate backup` when it works, else etcdctl (a fallback). */
async function backUp(lab: LabInfo): Promise<string> {
  const dir = join(lab.dir, 'backups');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const before = new Set(await readdir(dir));
  const viaCli = await orchestrate(['backup', lab.inventoryFile], { timeoutMs: 120_000 });
  if (viaCli.code === 0) {
    const added = (await readdir(dir)).filter((name) => !before.has(name) && name.endsWith('.db') && name !== 'snapshot.db');
    if (added.length === 1) return join(dir, added[0]!);
  }
  const file = join(dir, `snapshot_${new Date().toISOString().replace(/[-:.]/g, '')}_etcdctl.db`);
  const saved = await etcdctlInLab(lab, ['snapshot', 'save', file], [lab.hosts[0]!.address]);
  if (saved.code !== 0) throw new Error(`snapshot save failed: ${saved.stderr}`);
  return file;
}

/** Every cross-host ordering rule of a restore, checked on the systemctl logs written after `since`. */
async function checkServiceOrder(lab: LabInfo, since: string): Promise<void> {
  const events: (SystemctlEvent & { host: string })[] = [];
  for (const host of lab.hosts) {
    for (const event of await readSystemctlLog(lab, host.address)) if (event.time > since) events.push({ ...event, host: host.address });
  }
  const times = (action: 'start' | 'stop', units: string[]) =>
    events
      .filter((e) => e.action === action && units.includes(e.unit))
      .map((e) => e.time)
      .sort();
  const node = ['kubelet', 'kube-proxy'];
  const master = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
  const etcd = ['etcd'];
  const sequence: [string, string[]][] = [
    ['stop kube_node', times('stop', node)],
    ['stop kube_master', times('stop', master)],
    ['stop etcd', times('stop', etcd)],
    ['start etcd', times('start', etcd)],
    ['start kube_master', times('start', master)],
    ['start kube_node', times('start', node)],
  ];
  for (const [label, list] of sequence)
    expect(list.length, `${label} on every host`).to.equal(
      label.endsWith('etcd') ? lab.hosts.length : lab.hosts.length * (label.includes('node') ? 2 : 3),
    );
  for (let i = 1; i < sequence.length; i++) {
    const [previousLabel, previous] = sequence[i - 1]!;
    const [label, current] = sequence[i]!;
    expect(previous[previous.length - 1]! < current[0]!, `every "${previousLabel}" before the first "${label}"`).to.equal(true);
  }
}

async function dataDirs(lab: LabInfo, address: string): Promise<string[]> {
  const result = await sshToLabHost(lab, address, "ls -1 /var/lib | grep '^etcd'");
  return result.stdout.trim().split('\n');
}

function restoreSuite(net: string, size: number): void {
  describe(`orchestrate restore on a ${size}-member lab (${net}.x)`, function () {
    this.timeout(300_000);
    let lab: LabInfo;
    /** Set before the lab starts, so after() cleans up even when before() failed half-way. */
    let labDir: string | undefined;
    let snapshot: string;
    let snapshotKeys: Map<string, string>;

    before(async function () {
      this.timeout(120_000);
      labDir = tempLabDir();
      lab = await startLab({ dir: labDir, net, members: size });
      await waitHealthy(lab, size);
      await putKey(lab, '/registry/configmaps/default/restore-marker', `value-${size}`);
      snapshot = await backUp(lab);
      snapshotKeys = await keyValues(lab);
      await damage(lab, '/registry/rogue/after-backup');
    });

    after(async function () {
      this.timeout(60_000);
      if (!labDir) return;
      await stopLab(labDir);
      // The lab keeps backups and .orchestrate (journal, catalog) on purpose; these were only for this test.
      if (dirname(labDir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(labDir), { recursive: true, force: true });
    });

    it("--dry-run prints every member's own identity, the service order and where old data goes, and changes nothing", async () => {
      const before = await hostState(lab);
      const keysBefore = await keyValues(lab);
      const result = await orchestrate(['restore', lab.inventoryFile, '--dry-run']);
      expect(result.code, result.stderr).to.equal(0);
      const out = result.stdout;
      const cluster = lab.hosts.map((h) => `${h.name}=${h.peerUrl}`).join(',');
      for (const host of lab.hosts) {
        expect(out).to.contain(
          `--name ${host.name} --initial-cluster '${cluster}' --initial-cluster-token etcd-cluster-0 --initial-advertise-peer-urls ${host.peerUrl}`,
        );
      }
      expect(out).to.match(/mv \/var\/lib\/etcd \/var\/lib\/etcd\.before-restore-\d{8}T\d{6}Z/);
      const order = [
        '1. copy-snapshot',
        '2. restore-data',
        '3. stop-kube-node',
        '4. stop-kube-master',
        '5. stop-etcd',
        '6. swap-data',
        '7. start-etcd',
        '8. verify-cluster',
        '9. start-kube-master',
        '10. start-kube-node',
      ];
      const positions = order.map((label) => out.indexOf(label));
      expect(
        positions.every((p) => p >= 0),
        'every phase printed',
      ).to.equal(true);
      expect([...positions].sort((a, b) => a - b)).to.deep.equal(positions);
      // The data diff, before the plan: the pods deleted after the backup come back, the rogue key goes.
      expect(out).to.match(/^Data diff: the snapshot at revision \d+ \(\d+ keys\) against the cluster at revision \d+/m);
      expect(out).to.match(/^ {2}\d+ pods? in \S+ will come back$/m);
      expect(out).to.contain('1 key under /registry/rogue/ will be removed');
      expect(out).to.contain('newest write that will be lost: /registry/rogue/after-backup (removed;');
      expect(out.indexOf('Data diff:')).to.be.lessThan(out.indexOf('1. copy-snapshot'));
      expect(await hostState(lab)).to.deep.equal(before);
      expect(await keyValues(lab)).to.deep.equal(keysBefore);
    });

    it('--dry-run --json carries the data diff; --no-diff leaves it out', async () => {
      const json = await orchestrate(['restore', lab.inventoryFile, '--dry-run', '--json']);
      expect(json.code, json.stderr).to.equal(0);
      const report = JSON.parse(json.stdout.trim().split('\n').at(-1)!) as {
        dataDiff?: { ok: boolean; diff?: { groups: { prefix: string; comeBack: number; disappear: number }[]; newestLost?: { key: string } } };
      };
      expect(report.dataDiff?.ok, JSON.stringify(report.dataDiff)).to.equal(true);
      const rogue = report.dataDiff?.diff?.groups.find((g) => g.prefix === '/registry/rogue/');
      expect(rogue).to.include({ comeBack: 0, disappear: 1 });
      expect(report.dataDiff?.diff?.groups.some((g) => g.prefix.startsWith('/registry/pods/') && g.comeBack > 0)).to.equal(true);
      expect(report.dataDiff?.diff?.newestLost?.key).to.equal('/registry/rogue/after-backup');
      const without = await orchestrate(['restore', lab.inventoryFile, '--dry-run', '--no-diff']);
      expect(without.code, without.stderr).to.equal(0);
      expect(without.stdout).not.to.contain('Data diff');
      expect(without.stdout).to.contain('1. copy-snapshot');
    });

    it('refuses without --yes when there is no terminal, and changes nothing', async () => {
      const before = await hostState(lab);
      const result = await orchestrate(['restore', lab.inventoryFile]);
      expect(result.code).to.equal(5);
      expect(result.stderr).to.contain('without confirmation');
      expect(await hostState(lab)).to.deep.equal(before);
    });

    it('refuses a corrupted, a truncated or a missing snapshot before touching any host', async () => {
      const before = await hostState(lab);
      const bad = join(lab.dir, 'bad');
      await mkdir(bad, { recursive: true });
      const flipped = join(bad, 'flipped.db');
      await copyFile(snapshot, flipped);
      const bytes = await readFile(flipped);
      const middle = Math.floor(bytes.length / 2);
      bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
      await writeFile(flipped, bytes);
      const cut = join(bad, 'truncated.db');
      await copyFile(snapshot, cut);
      await truncate(cut, Math.floor((await stat(cut)).size / 2));
      for (const file of [flipped, cut, join(bad, 'missing.db')]) {
        const result = await orchestrate(['restore', lab.inventoryFile, '--snapshot', file, '--yes']);
        expect(result.code, `${file}: ${result.stderr}`).to.equal(5);
        expect(result.stderr).to.match(/failed verification|cannot be read/);
        expect(result.stderr).to.contain(file);
      }
      expect(await hostState(lab)).to.deep.equal(before);
    });

    it('restores the exact keys, one leader, every identity, services in order, old data kept', async () => {
      const since = new Date().toISOString();
      const idsBefore = (await memberStatuses(lab)).map((s) => s.memberId).sort();
      const result = await orchestrate(['restore', lab.inventoryFile, '--yes', '--json']);
      const report = reportOf(result);
      expect(result.code, `${report.failure ?? ''}\n${result.stderr}`).to.equal(0);
      expect(report.status).to.equal('completed');
      expect(report.verdict?.ok).to.equal(true);
      expect(await keyValues(lab)).to.deep.equal(snapshotKeys);

      const statuses = await memberStatuses(lab);
      expect(new Set(statuses.map((s) => s.leader)).size, 'every member names the same leader').to.equal(1);
      expect(statuses.filter((s) => s.leader === s.memberId)).to.have.length(1);
      expect(new Set(statuses.map((s) => s.clusterId)).size).to.equal(1);
      expect(new Set(statuses.map((s) => s.memberId)).size).to.equal(size);
      expect(statuses.map((s) => s.memberId)).not.to.include('8e9e05c52164694d');
      // The restore re-creates the same member ids: they derive from each member's own name, peer URL and token.
      expect(statuses.map((s) => s.memberId).sort()).to.deep.equal(idsBefore);
      expect(await memberList(lab)).to.deep.equal(lab.hosts.map((h) => `${h.name} ${h.peerUrl}`).sort());

      await checkServiceOrder(lab, since);
      for (const member of report.members) {
        expect(member.oldDataAt).to.equal(`/var/lib/etcd.before-restore-${report.runId}`);
        const kept = await sshToLabHost(lab, member.host, `test -d ${member.oldDataAt}/member/wal && echo kept`);
        expect(kept.stdout.trim(), member.host).to.equal('kept');
      }
      expect(report.rto.apiDowntimeMs).to.be.a('number');
    });

    it('--rollback puts the old data back on request (the restored data is moved aside, not deleted)', async () => {
      const result = await orchestrate(['restore', lab.inventoryFile, '--rollback', '--yes', '--json']);
      const report = reportOf(result);
      expect(result.code, `${report.failure ?? ''}\n${result.stderr}`).to.equal(0);
      expect(report.status).to.equal('rolled-back');
      const keys = await keyValues(lab);
      expect(keys.has('/registry/rogue/after-backup'), 'the pre-restore (damaged) data is back').to.equal(true);
      for (const member of report.members) expect(member.restoredDataAt).to.equal(`/var/lib/etcd.rolled-back-${report.runId}`);
      const again = await orchestrate(['restore', lab.inventoryFile, '--rollback', '--yes']);
      expect(again.code).to.equal(5);
      expect(again.stderr).to.contain('already rolled back');
    });

    it("detects kubeasz's mistake: one dir restored without identities on every member gives N leaders, 8e9e05c52164694d", async () => {
      // By hand, as kubeasz does: each member saves a snapshot of the (one) cluster, then every member restores
      // it WITHOUT --name/--initial-cluster/--initial-cluster-token, swaps it in and starts etcd.
      const tls = `--cacert=${lab.pki.caFile} --cert=${lab.pki.certFile} --key=${lab.pki.keyFile}`;
      await Promise.all(
        lab.hosts.map(async (host) => {
          const saved = await sshToLabHost(
            lab,
            host.address,
            `ETCDCTL_API=3 timeout 30 etcdctl --endpoints=${host.clientUrl} ${tls} snapshot save /var/lib/kubeasz-snapshot.db >/dev/null 2>&1`,
            { timeoutMs: 60_000 },
          );
          expect(saved.code, `${host.address}: snapshot save: ${saved.stderr}`).to.equal(0);
        }),
      );
      const script = [
        'systemctl stop kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver etcd',
        'rm -rf /var/lib/etcd.kubeasz /var/lib/etcd.before-kubeasz',
        'ETCDCTL_API=3 etcdctl snapshot restore /var/lib/kubeasz-snapshot.db --data-dir /var/lib/etcd.kubeasz >/dev/null 2>&1',
        'mv /var/lib/etcd /var/lib/etcd.before-kubeasz && mv /var/lib/etcd.kubeasz /var/lib/etcd',
        'systemctl start etcd',
      ].join(' && ');
      await Promise.all(
        lab.hosts.map(async (host) => {
          const done = await sshToLabHost(lab, host.address, script, { timeoutMs: 90_000 });
          expect(done.code, `${host.address}: ${done.stderr}`).to.equal(0);
        }),
      );
      const { inventory } = await loadInventory(lab.inventoryFile);
      const members = etcdMembers(inventory);
      const waited = await waitForVerifiedCluster(members, { kind: 'restored', members }, { timeoutMs: 30_000 });
      expect(waited.verdict.ok).to.equal(false);
      expect(waited.verdict.definitive).to.equal(true);
      const text = waited.verdict.problems.join('\n');
      expect(text).to.contain(`${size} leaders`);
      expect(text).to.contain('8e9e05c52164694d');

      // status says so (exit 7), and a backup refuses to save one side of the split as the newest good one.
      const status = await orchestrate(['status', lab.inventoryFile, '--timeout', '3']);
      expect(status.code, status.stdout + status.stderr).to.equal(7);
      expect(status.stdout).to.match(/UNHEALTHY: split brain: .* all report member id 8e9e05c52164694d and each is a leader/);
      const backup = await orchestrate(['backup', lab.inventoryFile]);
      expect(backup.code, backup.stdout + backup.stderr).to.equal(3);
      expect(backup.stdout + backup.stderr).to.contain('repair the cluster first');

      // And a real restore repairs it: every member gets its identity back.
      const repaired = await orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json']);
      const report = reportOf(repaired);
      expect(repaired.code, `${report.failure ?? ''}\n${repaired.stderr}`).to.equal(0);
      const statuses = await memberStatuses(lab);
      expect(statuses.filter((s) => s.leader === s.memberId)).to.have.length(1);
      expect(await keyValues(lab)).to.deep.equal(snapshotKeys);
    });

    if (size === 5) {
      it("--restore-on deploy-host restores every member's dir here, each with its own identity, and uploads it", async () => {
        await damage(lab, '/registry/rogue/deploy-host-mode');
        const result = await orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json', '--restore-on', 'deploy-host']);
        const report = reportOf(result);
        expect(result.code, `${report.failure ?? ''}\n${result.stderr}`).to.equal(0);
        expect(report.status).to.equal('completed');
        expect(await keyValues(lab)).to.deep.equal(snapshotKeys);
        const statuses = await memberStatuses(lab);
        expect(statuses.filter((s) => s.leader === s.memberId)).to.have.length(1);
        expect(new Set(statuses.map((s) => s.memberId)).size).to.equal(size);
        expect(await memberList(lab)).to.deep.equal(lab.hosts.map((h) => `${h.name} ${h.peerUrl}`).sort());
        for (const host of lab.hosts) expect((await dataDirs(lab, host.address)).filter((d) => d.endsWith('.tar'))).to.deep.equal([]);
      });
    }

    if (size === 3) {
      it('a run killed right after one member swapped is finished by the next run', async () => {
        await damage(lab, '/registry/rogue/before-crash');
        const first = lab.hosts[0]!.address;
        const killed = await orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes'], {
          env: { ORCHESTRATE_FAILPOINT: `swap-data:${first}` },
        });
        expect(killed.signal, killed.stderr).to.equal('SIGKILL');
        const journal = JSON.parse(await readFile(join(lab.dir, '.orchestrate', 'restore-journal', 'etcd-cluster-0.json'), 'utf8')) as {
          status: string;
          done: Record<string, string[]>;
        };
        expect(journal.status).to.equal('in-progress');
        expect(journal.done[first]).to.include('swap-data');
        // No member is ever without a data dir.
        for (const host of lab.hosts) expect(await dataDirs(lab, host.address)).to.include('etcd');

        const resumed = await orchestrate(['restore', lab.inventoryFile, '--yes', '--json']);
        const report = reportOf(resumed);
        expect(resumed.code, `${report.failure ?? ''}\n${resumed.stderr}`).to.equal(0);
        expect(report.resumed).to.equal(true);
        expect(report.status).to.equal('completed');
        expect(await keyValues(lab)).to.deep.equal(snapshotKeys);
        const statuses = await memberStatuses(lab);
        expect(statuses.filter((s) => s.leader === s.memberId)).to.have.length(1);
      });

      it('a member whose restore fails stops the run before anything is stopped; fixed, the next run succeeds', async () => {
        await damage(lab, '/registry/rogue/tool-broken');
        const broken = lab.hosts[2]!.address;
        const since = new Date().toISOString();
        await sshToLabHost(
          lab,
          broken,
          "mv /usr/bin/etcdctl /usr/bin/etcdctl.real && printf '#!/bin/sh\\necho injected failure >&2\\nexit 1\\n' > /usr/bin/etcdctl && chmod 755 /usr/bin/etcdctl",
        );
        try {
          const failed = await orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json']);
          const report = reportOf(failed);
          expect(failed.code).to.equal(3);
          expect(report.status).to.equal('aborted');
          expect(report.failure).to.contain('restore-data').and.to.contain(broken).and.to.contain('injected failure');
          for (const host of lab.hosts) {
            const stops = (await readSystemctlLog(lab, host.address)).filter((e) => e.time > since && e.action === 'stop');
            expect(stops, `${host.address} had nothing stopped`).to.deep.equal([]);
            expect((await dataDirs(lab, host.address)).filter((d) => d.startsWith('etcd.restore-'))).to.deep.equal([]);
          }
          expect((await keyValues(lab)).has('/registry/rogue/tool-broken')).to.equal(true);
        } finally {
          await sshToLabHost(lab, broken, 'mv /usr/bin/etcdctl.real /usr/bin/etcdctl');
        }
        const fixed = await orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes']);
        expect(fixed.code, fixed.stderr).to.equal(0);
        expect(await keyValues(lab)).to.deep.equal(snapshotKeys);
      });

      it('rolls back automatically when etcd cannot start on a member', async () => {
        await damage(lab, '/registry/rogue/before-broken-unit');
        const damaged = await keyValues(lab);
        const broken = lab.hosts[0]!.address;
        await sshToLabHost(
          lab,
          broken,
          "sed -i 's#^ExecStart=/usr/bin/etcd #ExecStart=/usr/bin/etcd --no-such-flag #' /etc/systemd/system/etcd.service",
        );
        try {
          const result = await orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json', '--etcd-timeout', '20']);
          const report = reportOf(result);
          expect(result.code).to.equal(3);
          expect(report.failure).to.contain('verify-cluster').and.to.contain(broken);
          expect(report.rollback?.status).to.equal('rolled-back');
          expect(report.rollback?.warnings.join()).to.contain(`(${broken}) does not answer`);
          for (const member of report.members) {
            expect(member.restoredDataAt).to.equal(`/var/lib/etcd.rolled-back-${report.runId}`);
            expect(await dataDirs(lab, member.host)).to.include.members(['etcd', `etcd.rolled-back-${report.runId}`]);
          }
          // The two healthy members serve the old (damaged) data again.
          const healthy = lab.hosts.slice(1).map((h) => h.address);
          const got = await etcdctlInLab(lab, ['get', '/registry/rogue/before-broken-unit', '--print-value-only'], healthy);
          expect(got.stdout.trim()).to.equal(damaged.get('/registry/rogue/before-broken-unit'));
        } finally {
          await sshToLabHost(lab, broken, "sed -i 's#--no-such-flag ##' /etc/systemd/system/etcd.service && systemctl start etcd");
        }
        await waitHealthy(lab, size);
      });
    }
  });
}

restoreSuite('127.0.105', 3);
restoreSuite('127.0.106', 5);
