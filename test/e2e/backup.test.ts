// End to end on a lab of 3 real hosts (sshd + TLS etcd 3.4): backups, member faults, verification,
// retention, metrics and status exit codes. Needs root (the lab). Net 127.0.104.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { runBackup, type BackupOutcome } from '../../src/commands/backup.js';
import { snapshotsCommand } from '../../src/commands/snapshots.js';
import { statusCommand } from '../../src/commands/status.js';
import { etcdctlInLab, sshToLabHost, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { etcdctlSnapshotStatus } from '../helpers/etcd.js';

const execFileAsync = promisify(execFile);

/** Run a command function with stdout captured (the commands print; they return the exit code). */
async function captured(run: () => Promise<number>): Promise<{ code: number; stdout: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let stdout = '';
  process.stdout.write = (chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  };
  try {
    return { code: await run(), stdout };
  } finally {
    process.stdout.write = write;
  }
}

async function backup(inventoryFile: string, extra: Partial<Parameters<typeof runBackup>[0]> = {}): Promise<BackupOutcome> {
  return runBackup({ inventoryFile, output: 'silent', ...extra });
}

async function catalogLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function metric(text: string, name: string): number {
  const match = new RegExp(`^${name}\\{cluster="etcd-cluster-0"\\} (\\S+)$`, 'm').exec(text);
  if (!match) throw new Error(`metric ${name} missing in:\n${text}`);
  return Number(match[1]);
}

async function leaderAddress(lab: LabInfo): Promise<string> {
  const result = await etcdctlInLab(lab, ['endpoint', 'status', '-w', 'json']);
  const statuses = JSON.parse(result.stdout) as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[];
  const leader = statuses.find((s) => s.Status.header.member_id === s.Status.leader);
  if (!leader) throw new Error('no leader');
  return new URL(leader.Endpoint).hostname;
}

async function systemctl(lab: LabInfo, address: string, action: 'start' | 'stop'): Promise<void> {
  const result = await sshToLabHost(lab, address, `systemctl ${action} etcd`, { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`systemctl ${action} etcd on ${address}: ${result.stderr}`);
}

async function waitHealthy(lab: LabInfo): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const result = await etcdctlInLab(lab, ['endpoint', 'health']).catch(() => undefined);
    if (result?.code === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('lab did not become healthy');
}

describe('orchestrate backup on a lab (e2e)', function () {
  this.timeout(300_000);
  let lab: LabInfo;
  let labDir: string;
  let backupDir: string;
  let catalogFile: string;
  let metricsFile: string;
  let first: BackupOutcome;

  before(async function () {
    this.timeout(120_000);
    labDir = tempLabDir();
    lab = await startLab({ dir: labDir, net: '127.0.104', members: 3 });
    for (let i = 0; i < 20; i++) await etcdctlInLab(lab, ['put', `/registry/test/key-${i}`, `value-${i}`]);
    backupDir = join(labDir, 'backups');
    catalogFile = join(labDir, '.orchestrate', 'catalog', 'etcd-cluster-0.jsonl');
    metricsFile = join(labDir, '.orchestrate', 'metrics', 'orchestrate_backup.prom');
  });

  after(async function () {
    this.timeout(60_000);
    if (!labDir) return;
    await stopLab(labDir);
    // The lab keeps files it did not create (our backups, catalog, extra inventories): remove its temp folder.
    await rm(dirname(labDir), { recursive: true, force: true });
  });

  it('takes a verified snapshot from a follower, names it by time and revision, points snapshot.db at it', async () => {
    const leader = await leaderAddress(lab);
    first = await backup(lab.inventoryFile);
    expect(first.exitCode).to.equal(0);
    expect(first.ok).to.equal(true);
    const record = first.record!;
    expect(record.result).to.equal('ok');
    expect(record.host).to.not.equal(leader);
    expect(record.file).to.match(/\/snapshot_\d{8}T\d{6}Z_rev\d+(_\d+)?\.db$/);
    const file = record.file!;
    const info = await stat(file);
    expect(info.mode & 0o777).to.equal(0o600);
    expect((await stat(backupDir)).mode & 0o777).to.equal(0o700);
    expect(await readFile(join(backupDir, 'snapshot.db'))).to.deep.equal(await readFile(file));
    // What Debian's etcdctl says about the file is what was recorded.
    const reference = await etcdctlSnapshotStatus(file);
    expect({ revision: record.revision, keys: record.keys, hash: record.hash }).to.deep.equal({
      revision: reference.revision,
      keys: reference.totalKey,
      hash: reference.hash,
    });
    expect(record.revision).to.be.at.least(21);
    const { stdout } = await execFileAsync('sha256sum', [file]);
    expect(stdout.split(' ')[0]).to.equal(record.sha256);
    expect(record.etcdVersion).to.equal('3.4.23');
    // Nothing but the snapshot and its pointer in the folder: no temporary files left.
    expect((await readdir(backupDir)).sort()).to.deep.equal([record.file!.split('/').pop()!, 'snapshot.db'].sort());
  });

  it('keeps the catalog apart from the snapshots and writes the freshness metrics', async () => {
    const lines = await catalogLines(catalogFile);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ result: 'ok', file: first.record!.file, sha256: first.record!.sha256, cluster: 'etcd-cluster-0' });
    expect(catalogFile.startsWith(backupDir)).to.equal(false);
    const text = await readFile(metricsFile, 'utf8');
    expect(text).to.match(/^# HELP orchestrate_backup_last_success_timestamp_seconds /m);
    expect(text).to.match(/^# TYPE orchestrate_backup_last_success_timestamp_seconds gauge$/m);
    expect(metric(text, 'orchestrate_backup_last_attempt_success')).to.equal(1);
    expect(metric(text, 'orchestrate_backup_consecutive_failures')).to.equal(0);
    expect(metric(text, 'orchestrate_backup_last_revision')).to.equal(first.record!.revision);
    expect(metric(text, 'orchestrate_backup_last_size_bytes')).to.equal(first.record!.size);
    expect(Math.abs(metric(text, 'orchestrate_backup_last_success_timestamp_seconds') - Date.now() / 1000)).to.be.below(120);
    expect(metric(text, 'orchestrate_backup_last_duration_seconds')).to.be.above(0);
  });

  it('--dry-run shows the steps and changes nothing', async () => {
    const before = {
      files: (await readdir(backupDir)).sort(),
      catalog: await readFile(catalogFile, 'utf8'),
      metrics: await readFile(metricsFile, 'utf8'),
    };
    const outcome = await backup(lab.inventoryFile, { dryRun: true });
    expect(outcome.dryRun).to.equal(true);
    expect(outcome.exitCode).to.equal(0);
    expect((await readdir(backupDir)).sort()).to.deep.equal(before.files);
    expect(await readFile(catalogFile, 'utf8')).to.equal(before.catalog);
    expect(await readFile(metricsFile, 'utf8')).to.equal(before.metrics);
  });

  it('with one member down, still backs up from another within seconds', async () => {
    const victim = first.record!.host!;
    await systemctl(lab, victim, 'stop');
    try {
      const started = Date.now();
      const outcome = await backup(lab.inventoryFile);
      expect(outcome.exitCode).to.equal(0);
      expect(outcome.record!.host).to.not.equal(victim);
      expect(Date.now() - started).to.be.below(15_000);
    } finally {
      await systemctl(lab, victim, 'start');
      await waitHealthy(lab);
    }
  });

  it('takes the snapshot with etcdctl on a member and copies it back with --method etcdctl', async () => {
    const outcome = await backup(lab.inventoryFile, { method: 'etcdctl', knownHostsFile: lab.knownHostsFile });
    expect(outcome.exitCode, JSON.stringify(outcome.record)).to.equal(0);
    expect(outcome.record!.method).to.equal('etcdctl');
    const reference = await etcdctlSnapshotStatus(outcome.record!.file!);
    expect(outcome.record!.hash).to.equal(reference.hash);
    // The temporary copy on the member is gone.
    const host = lab.hosts.find((h) => h.address === outcome.record!.host)!;
    const leftovers = await readdir(join(host.upperDir, 'var', 'lib')).catch(() => [] as string[]);
    expect(leftovers.filter((name) => name.startsWith('orchestrate-snapshot-'))).to.deep.equal([]);
  });

  it('with all members down: a clear error, a failed record, metrics updated, exit 3', async () => {
    const lastSuccess = metric(await readFile(metricsFile, 'utf8'), 'orchestrate_backup_last_success_timestamp_seconds');
    await Promise.all(lab.hosts.map((h) => systemctl(lab, h.address, 'stop')));
    try {
      const started = Date.now();
      const outcome = await backup(lab.inventoryFile);
      expect(Date.now() - started).to.be.below(20_000);
      expect(outcome.ok).to.equal(false);
      expect(outcome.exitCode).to.equal(3);
      expect(outcome.record!.result).to.equal('failed');
      expect(outcome.record!.error).to.match(/no healthy etcd member/);
      for (const h of lab.hosts) expect(outcome.record!.error).to.include(`${h.name}: connection refused`);
      const lines = await catalogLines(catalogFile);
      expect(lines.at(-1)).to.include({ result: 'failed' });
      const text = await readFile(metricsFile, 'utf8');
      expect(metric(text, 'orchestrate_backup_last_attempt_success')).to.equal(0);
      expect(metric(text, 'orchestrate_backup_consecutive_failures')).to.equal(1);
      expect(metric(text, 'orchestrate_backup_last_success_timestamp_seconds')).to.equal(lastSuccess);
      // The newest good backup is still fresh, but a cluster with every member down is unhealthy: exit 7.
      const status = await captured(() => statusCommand([lab.inventoryFile, '--max-age', '1h', '--json']));
      const parsed = JSON.parse(status.stdout) as { healthy: number; stale: boolean };
      expect(status.code).to.equal(7);
      expect(parsed.healthy).to.equal(0);
      expect(parsed.stale).to.equal(false);
    } finally {
      await Promise.all(lab.hosts.map((h) => systemctl(lab, h.address, 'start')));
      await waitHealthy(lab);
    }
    const recovered = await backup(lab.inventoryFile);
    expect(recovered.exitCode).to.equal(0);
    expect(metric(await readFile(metricsFile, 'utf8'), 'orchestrate_backup_consecutive_failures')).to.equal(0);
  });

  it('status exits 6 when the newest verified snapshot is older than --max-age, or there is none', async () => {
    const fresh = await captured(() => statusCommand([lab.inventoryFile, '--max-age', '1h']));
    expect(fresh.code).to.equal(0);
    expect(fresh.stdout).to.match(/3\/3 members healthy, leader etcd-/);
    await new Promise((r) => setTimeout(r, 2_100));
    const stale = await captured(() => statusCommand([lab.inventoryFile, '--max-age', '1s']));
    expect(stale.code).to.equal(6);
    expect(stale.stdout).to.match(/^STALE: /m);
    // An inventory whose backup folder is empty.
    const otherDir = await mkdtemp(join(tmpdir(), 'orchestrate-empty-backups-'));
    try {
      const inventory = (await readFile(lab.inventoryFile, 'utf8')).replace(/backup_dir: .*/, `backup_dir: ${otherDir}/backups`);
      const otherInventory = join(otherDir, 'inventory.yml');
      await writeFile(otherInventory, inventory);
      const none = await captured(() => statusCommand([otherInventory, '--json']));
      expect(none.code).to.equal(6);
      expect(JSON.parse(none.stdout)).to.include({ newestVerifiedSnapshot: null, stale: true });
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('snapshots verify: good, truncated, bit-flipped and a raw member/snap/db copy', async () => {
    const work = await mkdtemp(join(tmpdir(), 'orchestrate-verify-'));
    try {
      const good = first.record!.file!;
      const truncated = join(work, 'truncated.db');
      const flipped = join(work, 'flipped.db');
      await copyFile(good, truncated);
      await truncate(truncated, Math.floor((await stat(good)).size / 2));
      const data = await readFile(good);
      const middle = Math.floor(data.length / 2);
      data[middle] = data[middle]! ^ 0x01;
      await writeFile(flipped, data);
      // A raw bbolt file copied out of a (stopped) member's data dir.
      const host = lab.hosts[2]!;
      await systemctl(lab, host.address, 'stop');
      const raw = join(work, 'raw-db.db');
      try {
        await copyFile(join(host.upperDir, 'var', 'lib', 'etcd', 'member', 'snap', 'db'), raw);
      } finally {
        await systemctl(lab, host.address, 'start');
        await waitHealthy(lab);
      }
      const result = await captured(() => snapshotsCommand(['verify', good, truncated, flipped, raw, '--json']));
      expect(result.code).to.equal(3);
      const reports = JSON.parse(result.stdout) as { ok: boolean; hasHash: boolean; problems: { code: string }[] }[];
      expect(reports.map((r) => r.ok)).to.deep.equal([true, false, false, true]);
      expect(reports[1]!.problems.map((p) => p.code)).to.include('file.truncated');
      expect(reports[2]!.problems.map((p) => p.code)).to.include('trailer.mismatch');
      expect(reports[3]!.hasHash).to.equal(false);
      const goodOnly = await captured(() => snapshotsCommand(['verify', good]));
      expect(goodOnly.code).to.equal(0);
      expect(goodOnly.stdout).to.match(/ok, sha256 trailer ok/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('snapshots list shows every snapshot, and a lost catalog is rebuilt from the files', async () => {
    const listed = await captured(() => snapshotsCommand(['list', lab.inventoryFile, '--json']));
    const before = JSON.parse(listed.stdout) as { rows: { name: string; status: string; checked: string; isPointer: boolean }[] };
    expect(before.rows.length).to.be.at.least(4);
    expect(before.rows.every((r) => r.status === 'ok' && r.checked === 'catalog')).to.equal(true);
    expect(before.rows[0]!.isPointer).to.equal(true);
    await rm(catalogFile);
    const again = JSON.parse((await captured(() => snapshotsCommand(['list', lab.inventoryFile, '--json']))).stdout) as {
      rebuilt: boolean;
      rows: { status: string }[];
    };
    expect(again.rebuilt).to.equal(true);
    expect(again.rows.map((r) => r.status)).to.deep.equal(before.rows.map(() => 'ok'));
    expect((await catalogLines(catalogFile)).every((r) => r.rebuilt === true)).to.equal(true);
    // A backup goes on without the old catalog.
    expect((await backup(lab.inventoryFile)).exitCode).to.equal(0);
  });

  it('retention: keep-last and ttl delete only verified, orchestrate-named files, never the newest', async () => {
    // Older snapshots named as if taken weeks ago (copies of a good file), and a file put there by hand.
    const good = first.record!.file!;
    const revision = first.record!.revision!;
    const old = ['20260101T000000Z', '20260102T000000Z', '20260103T000000Z'].map((t) => join(backupDir, `snapshot_${t}_rev${revision}.db`));
    for (const file of old) await copyFile(good, file);
    await writeFile(join(backupDir, 'hand-made.db'), 'not a snapshot');
    const total = (await readdir(backupDir)).filter((n) => n.startsWith('snapshot_')).length;

    const dry = JSON.parse((await captured(() => snapshotsCommand(['prune', lab.inventoryFile, '--ttl', '7d', '--dry-run', '--json']))).stdout) as {
      delete: { file: string }[];
      keep: { file: string }[];
    };
    expect(dry.delete.map((d) => d.file).sort()).to.deep.equal(old.map((f) => f.split('/').pop()).sort());
    expect((await readdir(backupDir)).filter((n) => n.startsWith('snapshot_'))).to.have.length(total);

    const pruned = JSON.parse((await captured(() => snapshotsCommand(['prune', lab.inventoryFile, '--keep-last', '2', '--json']))).stdout) as {
      deleted: string[];
    };
    expect(pruned.deleted).to.have.length(total - 2);
    const left = (await readdir(backupDir)).sort();
    expect(left.filter((n) => n.startsWith('snapshot_'))).to.have.length(2);
    expect(left).to.include('hand-made.db');
    expect(left).to.include('snapshot.db');
    const pointer = await captured(() => snapshotsCommand(['verify', join(backupDir, 'snapshot.db')]));
    expect(pointer.code).to.equal(0);
  });

  it('a full disk leaves no file that looks like a snapshot, and the attempt is recorded as failed', async () => {
    const tiny = await mkdtemp(join(tmpdir(), 'orchestrate-tiny-'));
    await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', tiny]);
    try {
      // Make the snapshot larger than the tmpfs.
      for (let i = 0; i < 3; i++) await etcdctlInLab(lab, ['put', `/registry/test/large-${i}`, 'x'.repeat(100_000)]);
      const inventory = (await readFile(lab.inventoryFile, 'utf8')).replace(/backup_dir: .*/, `backup_dir: ${tiny}/backups`);
      const otherInventory = join(labDir, 'inventory-tiny.yml');
      await writeFile(otherInventory, inventory);
      const outcome = await backup(otherInventory);
      expect(outcome.exitCode).to.equal(3);
      expect(outcome.record!.error).to.match(/ENOSPC|no space/i);
      expect(await readdir(join(tiny, 'backups'))).to.deep.equal([]);
    } finally {
      await execFileAsync('umount', [tiny]);
      await rm(tiny, { recursive: true, force: true });
    }
  });

  it('refuses a catalog inside the backup folder before doing anything', async () => {
    const inventory = (await readFile(lab.inventoryFile, 'utf8')).replace(
      /backup_dir: .*/,
      'backup_dir: backups\n    backup_catalog_dir: backups/catalog',
    );
    const file = join(labDir, 'inventory-catalog-inside.yml');
    await writeFile(file, inventory);
    await mkdir(join(labDir, 'backups'), { recursive: true });
    let error: unknown;
    await backup(file).catch((e: unknown) => (error = e));
    expect((error as { code?: string }).code).to.equal('backup.catalog-inside-backup-dir');
  });
});
