// `orchestrate drill` against a real 3-member lab (127.0.140.x, TLS etcd 3.4) and real etcd processes on
// this host: a good snapshot (with the lab's own etcd stopped, so nothing there is needed), 5 members,
// a bit-flipped file refused before anything starts, a raw member/snap/db, a failing assertion, missing
// binaries, Ctrl-C and kill -9 mid-drill leaving nothing behind, status --max-drill-age, and the report of
// the lab loaded in chromium. Needs root (the lab). The CLI runs as a child process from source.
import { expect } from 'chai';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isAlive } from '../../src/drill/workspace.js';
import { hostSystemctl } from '../../src/lab/index.js';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { waitHealthy } from '../helpers/lab-data.js';
import { startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { processesMentioning } from '../helpers/processes.js';
import { pngSize, visitInChromium } from './report-browser.js';

interface DrillJson {
  ok: boolean;
  exitCode: number;
  workDir?: string;
  members: { name: string; clientUrl: string }[];
  checks: { id: string; ok: boolean; detail: string }[];
  expectations: { expectation: { value: string }; count: number; ok: boolean }[];
  resources: { resource: string; namespace?: string; count: number }[];
  keys?: { snapshot: number; cluster: number };
  expectedRevision?: number;
  snapshot: { path: string; hasHash?: boolean; revision?: number };
  failure?: { stage: string; message: string };
  leftBehind: { pids: number[]; dir?: string };
  timings: { timeToQuorumMs?: number; timeToLastCheckMs?: number };
  recorded?: { catalogFile: string; metricsFile: string };
}

function tail(result: CliResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout\n${result.stdout.slice(-3000)}\n--- stderr\n${result.stderr.slice(-3000)}`;
}

function orchestrate(
  args: string[],
  options: { env?: Record<string, string>; onLine?: (line: string, pid: number) => void } = {},
): Promise<CliResult> {
  return runCliFromSource(args, {
    env: { CI: '1', ...options.env },
    timeoutMs: 90_000,
    onSpawn: (child) => {
      let pending = '';
      child.stdout.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) options.onLine?.(line, child.pid!);
      });
    },
  });
}

function parse(result: CliResult): DrillJson {
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as DrillJson;
}

describe('drill: a snapshot restored into a throwaway cluster on this host (lab 127.0.140.x)', function () {
  this.timeout(120_000);
  let lab: LabInfo | undefined;
  let snapshot: string;
  let work: string;

  const theLab = (): LabInfo => {
    if (!lab) throw new Error('no lab');
    return lab;
  };

  before(async function () {
    this.timeout(150_000);
    lab = await startLab({ dir: tempLabDir(), net: '127.0.140', members: 3 });
    await waitHealthy(lab);
    const backup = await orchestrate(['backup', lab.inventoryFile, '--json']);
    expect(backup.code, tail(backup)).to.equal(0);
    snapshot = (JSON.parse(backup.stdout.trim().split('\n').at(-1)!) as { record: { file: string } }).record.file;
    work = await mkdtemp(join(tmpdir(), 'orchestrate-drill-e2e-'));
  });

  after(async function () {
    this.timeout(60_000);
    if (work) await rm(work, { recursive: true, force: true });
    if (!lab) return;
    await stopLab(lab.dir);
    if (dirname(lab.dir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(lab.dir), { recursive: true, force: true });
  });

  it("the newest snapshot restores: quorum, one leader and cluster id, the revision, every key and value, the defaults hold; the lab's own etcd is not needed", async () => {
    const lab = theLab();
    for (const host of lab.hosts) expect((await hostSystemctl(host.pid, ['stop', 'etcd'])).code).to.equal(0);
    let result: CliResult;
    try {
      result = await orchestrate(['drill', lab.inventoryFile, '--json', '--work-dir', work]);
    } finally {
      for (const host of lab.hosts) await hostSystemctl(host.pid, ['start', 'etcd']);
    }
    expect(result.code, tail(result)).to.equal(0);
    const drill = parse(result);
    expect(drill.ok).to.equal(true);
    expect(drill.snapshot.path).to.equal(snapshot);
    expect(drill.members.map((m) => m.name)).to.deep.equal(lab.hosts.map((h) => h.name));
    for (const m of drill.members) expect(m.clientUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(drill.checks.map((c) => `${c.id}:${c.ok}`)).to.deep.equal([
      'one-leader:true',
      'one-cluster-id:true',
      'revision:true',
      'member-list:true',
      'hash:true',
      'keys:true',
      'expectations:true',
    ]);
    expect(drill.expectedRevision).to.equal(drill.snapshot.revision);
    expect(drill.keys!.cluster).to.equal(drill.keys!.snapshot).and.to.be.greaterThan(40);
    expect(drill.resources).to.deep.include({ resource: 'pods', namespace: 'default', count: 25 });
    expect(drill.resources).to.deep.include({ resource: 'namespaces', count: 5 });
    expect(drill.timings.timeToQuorumMs).to.be.a('number');
    expect(drill.timings.timeToLastCheckMs).to.be.greaterThan(drill.timings.timeToQuorumMs!);
    expect(drill.leftBehind).to.deep.equal({ pids: [] });
    expect(await readdir(work), 'the temporary folder is gone').to.deep.equal([]);
    expect(processesMentioning(drill.workDir!), 'no member still runs').to.deep.equal([]);
    const records = (await readFile(drill.recorded!.catalogFile, 'utf8')).trim().split('\n');
    expect(JSON.parse(records.at(-1)!)).to.include({ kind: 'drill', result: 'ok', members: 3 });
    const metrics = await readFile(drill.recorded!.metricsFile, 'utf8');
    const success = Number(/^orchestrate_drill_last_success_timestamp_seconds\{cluster="etcd-cluster-0"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(Date.now() / 1000 - success).to.be.within(0, 60);
    expect(metrics).to.match(/^orchestrate_drill_duration_seconds\{cluster="etcd-cluster-0"\} [\d.]+$/m);
    expect(metrics).to.contain(`orchestrate_drill_proven_snapshot_info{cluster="etcd-cluster-0",snapshot="${snapshot.split('/').pop()!}"} 1`);
    await waitHealthy(lab);
  });

  it('5 members from a 3-member inventory, in words on a terminal-less run', async () => {
    const result = await orchestrate(['drill', theLab().inventoryFile, '--members', '5', '--snapshot', snapshot, '--work-dir', work]);
    expect(result.code, tail(result)).to.equal(0);
    expect(result.stdout).to.match(/^PASSED: .* restores: 5 members, one leader, revision \d+, \d+ keys equal to the snapshot's/m);
    expect(result.stdout).to.contain('restored 5 data dirs with etcdctl, each with its own --name and peer URL');
    expect(result.stdout).to.contain("etcdctl 3.4.23 cannot bump the revision (no --bump-revision): the cluster serves the snapshot's revision");
    expect(result.stdout).to.match(/^\s+pods\s+30\s+default 25, kube-system 5$/m);
    expect(await readdir(work)).to.deep.equal([]);
  });

  it('a bit-flipped snapshot is refused before anything starts (exit 5), and recorded as a failed drill', async () => {
    const flipped = join(work, '..', `flipped-${Date.now()}.db`);
    const bytes = await readFile(snapshot);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
    await writeFile(flipped, bytes, { mode: 0o600 });
    try {
      const result = await orchestrate(['drill', theLab().inventoryFile, '--snapshot', flipped, '--json', '--work-dir', work]);
      expect(result.code, tail(result)).to.equal(5);
      const drill = parse(result);
      expect(drill.failure?.stage).to.equal('snapshot');
      expect(drill.failure?.message).to.contain('failed verification').and.to.contain('nothing was started');
      expect(drill.members).to.deep.equal([]);
      expect(await readdir(work), 'no folder was even made').to.deep.equal([]);
      const last = JSON.parse((await readFile(drill.recorded!.catalogFile, 'utf8')).trim().split('\n').at(-1)!) as {
        result: string;
        failedStage: string;
      };
      expect(last).to.include({ result: 'failed', failedStage: 'snapshot' });
    } finally {
      await rm(flipped, { force: true });
    }
  });

  it('a raw member/snap/db copied out of a data dir restores with the hash check skipped', async () => {
    const lab = theLab();
    const host = lab.hosts[2]!;
    const raw = join(work, '..', `raw-${Date.now()}.db`);
    expect((await hostSystemctl(host.pid, ['stop', 'etcd'])).code).to.equal(0);
    try {
      await copyFile(join(host.upperDir, 'var/lib/etcd/member/snap/db'), raw);
    } finally {
      await hostSystemctl(host.pid, ['start', 'etcd']);
    }
    try {
      const result = await orchestrate(['drill', lab.inventoryFile, '--snapshot', raw, '--json', '--work-dir', work]);
      expect(result.code, tail(result)).to.equal(0);
      const drill = parse(result);
      expect(drill.snapshot.hasHash).to.equal(false);
      expect(drill.checks.every((c) => c.ok)).to.equal(true);
    } finally {
      await rm(raw, { force: true });
    }
    await waitHealthy(lab);
  });

  it('an assertion that fails: exit 3, naming the missing prefix', async () => {
    const lab = theLab();
    const inventory = join(dirname(lab.inventoryFile), 'inventory-expect.yml');
    const text = (await readFile(lab.inventoryFile, 'utf8')).replace(
      '    backup_dir: backups\n',
      '    backup_dir: backups\n    drill_expect:\n      - /registry/namespaces/kube-system\n      - { prefix: /registry/pods/, min: 30 }\n      - /registry/nothing-here/\n',
    );
    expect(text).to.contain('nothing-here');
    await writeFile(inventory, text);
    const result = await orchestrate(['drill', inventory, '--snapshot', snapshot, '--work-dir', work]);
    expect(result.code, tail(result)).to.equal(3);
    expect(result.stdout).to.match(/^FAILED \(checks\): expectations: MISSING at least 1 key under \/registry\/nothing-here\/ \(found 0\)$/m);
    expect(result.stdout).to.contain('MISSING: /registry/nothing-here/ has 0 key(s), at least 1 expected');
    expect(result.stdout).not.to.contain('kube-system has');
    expect(await readdir(work)).to.deep.equal([]);
  });

  it('etcd missing from the PATH: refused naming etcd-server; etcdctl missing: naming etcd-client', async () => {
    const bin = join(work, '..', `bin-${Date.now()}`);
    await mkdir(bin);
    try {
      const noEtcd = await orchestrate(['drill', theLab().inventoryFile, '--work-dir', work], { env: { PATH: bin } });
      expect(noEtcd.code, tail(noEtcd)).to.equal(5);
      expect(noEtcd.stdout).to.match(
        /FAILED \(tools\): the etcd server \(etcd\) is not on the PATH .*; install the Debian package etcd-server \(apt-get install etcd-server\)/,
      );
      await symlink('/usr/bin/etcd', join(bin, 'etcd'));
      const noClient = await orchestrate(['drill', theLab().inventoryFile, '--work-dir', work], { env: { PATH: bin } });
      expect(noClient.code, tail(noClient)).to.equal(5);
      expect(noClient.stdout).to.contain('no etcdutl or etcdctl that can restore a snapshot').and.to.contain('apt-get install etcd-client');
      expect(await readdir(work)).to.deep.equal([]);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });

  it('Ctrl-C mid-drill: exit 130, every member stopped, the folder removed', async () => {
    let pids: number[] = [];
    const result = await orchestrate(['drill', theLab().inventoryFile, '--snapshot', snapshot, '--work-dir', work], {
      onLine: (line, pid) => {
        const started = /started \d+ etcd members on 127\.0\.0\.1 \(pids ([\d, ]+)\)/.exec(line);
        if (started && pids.length === 0) {
          pids = started[1]!.split(', ').map(Number);
          process.kill(pid, 'SIGINT');
        }
      },
    });
    expect(pids, tail(result)).to.have.length(3);
    expect(result.code, tail(result)).to.equal(130);
    expect(result.stdout).to.contain('FAILED (interrupted)');
    for (const pid of pids) expect(isAlive(pid), `etcd ${pid} is gone`).to.equal(false);
    expect(await readdir(work)).to.deep.equal([]);
  });

  it('kill -9 mid-drill: the members and the folder it left are cleaned up by the next drill', async () => {
    let pids: number[] = [];
    const killed = await orchestrate(['drill', theLab().inventoryFile, '--snapshot', snapshot, '--work-dir', work], {
      onLine: (line, pid) => {
        const started = /started \d+ etcd members on 127\.0\.0\.1 \(pids ([\d, ]+)\)/.exec(line);
        if (started && pids.length === 0) {
          pids = started[1]!.split(', ').map(Number);
          process.kill(pid, 'SIGKILL');
        }
      },
    });
    expect(killed.signal, tail(killed)).to.equal('SIGKILL');
    const left = await readdir(work);
    expect(left, 'a kill -9 leaves the folder').to.have.length(1);
    const next = await orchestrate(['drill', theLab().inventoryFile, '--snapshot', snapshot, '--work-dir', work]);
    expect(next.code, tail(next)).to.equal(0);
    for (const pid of pids) expect(isAlive(pid), `etcd ${pid} is gone`).to.equal(false);
    expect(await readdir(work)).to.deep.equal([]);
  });

  it('status shows the last snapshot proven restorable and judges --max-drill-age', async () => {
    const lab = theLab();
    const fresh = await orchestrate(['status', lab.inventoryFile, '--max-drill-age', '1h', '--timeout', '3']);
    expect(fresh.code, tail(fresh)).to.equal(0);
    expect(fresh.stdout).to.match(/^last proven restorable: snapshot_\S+\.db \(revision \d+, taken \d+s ago\), drilled \d+s ago \(max 1h\)$/m);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const stale = await orchestrate(['status', lab.inventoryFile, '--max-drill-age', '2s', '--timeout', '3', '--json']);
    expect(stale.code, tail(stale)).to.equal(6);
    const json = JSON.parse(stale.stdout) as { exitCode: number; stale: boolean; drill: { stale: boolean; lastProvenSnapshot: { file: string } } };
    expect(json).to.include({ exitCode: 6, stale: false });
    expect(json.drill.stale).to.equal(true);
    expect(json.drill.lastProvenSnapshot.file).to.equal(snapshot);
    const bad = await orchestrate(['status', lab.inventoryFile, '--max-drill-age', 'soon']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('--max-drill-age must be a duration');
  });

  it("the lab's report: backups, drills and live status, loaded in chromium without a console error", async () => {
    const lab = theLab();
    const out = join(work, '..', 'lab-report.html');
    const result = await orchestrate(['report', lab.inventoryFile, '--out', out]);
    expect(result.code, tail(result)).to.equal(0);
    expect(result.stdout.trim()).to.equal(out);
    const visit = await visitInChromium(
      out,
      `JSON.stringify({ drills: document.querySelectorAll('#drills tbody tr').length, members: document.querySelectorAll('#status tbody tr').length, attempts: document.querySelectorAll('#backups circle.attempt').length })`,
    );
    expect(visit.errors).to.deep.equal([]);
    expect(visit.requests).to.deep.equal([]);
    const drills = (await readFile(join(dirname(lab.inventoryFile), '.orchestrate', 'catalog', 'drills', 'etcd-cluster-0.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    expect(JSON.parse(visit.value as string)).to.deep.equal({ drills: drills.length, members: 3, attempts: 1 });
    expect(pngSize(visit.screenshot).width).to.be.within(1000, 1100);
    await writeFile(join(work, '..', 'lab-report.png'), visit.screenshot);
    expect(visit.pdf.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
  });
});
