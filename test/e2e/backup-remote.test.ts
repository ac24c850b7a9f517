// Remote copies wired into the product, end to end on a lab of 3 real hosts (sshd + TLS etcd) with a real
// S3 server on loopback (s3rver): `backup` with an age-encrypted copy that Debian's age decrypts, the server
// stopped mid-upload (the attempt fails, the local snapshot is kept and recorded local-only), `snapshots
// list/prune/pull/verify --remote`, `status --max-remote-age`, restores from the bucket (latest, s3://) after
// backup_dir was deleted (a missing or wrong identity refused first), and an object altered on the server
// refused by verify and restore. Needs root. Net 127.0.141.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { runBackup, type BackupOutcome } from '../../src/commands/backup.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { etcdctlInLab, readSystemctlLog, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { ageKeygen, FAST_POLICY, writeS3Credentials, type AgeKeys } from './remote-helpers.js';

const execFileAsync = promisify(execFile);
const CLUSTER = 'etcd-cluster-0';
const PREFIX = `prod/snapshots/${CLUSTER}/`;

function orchestrate(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCliFromSource(args, { env, timeoutMs: 240_000 });
}

const sha256Of = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

function metric(text: string, name: string): number {
  const match = new RegExp(`^${name}\\{cluster="${CLUSTER}"\\} (\\S+)$`, 'm').exec(text);
  if (!match) throw new Error(`metric ${name} missing in:\n${text}`);
  return Number(match[1]);
}

/** The lab's inventory with backup_remote and backup_encryption, written beside it (same backup_dir and catalog). */
async function remoteInventory(lab: LabInfo, name: string, endpoint: string, recipient: string, credentialsFile: string): Promise<string> {
  const doc = parse(await readFile(lab.inventoryFile, 'utf8')) as { all: { vars?: Record<string, unknown> } };
  doc.all.vars = {
    ...doc.all.vars,
    backup_remote: { endpoint, bucket: 'backups', prefix: 'prod/', credentials_file: credentialsFile },
    backup_encryption: { recipients: [recipient] },
  };
  const file = join(dirname(lab.inventoryFile), name);
  await writeFile(file, stringify(doc));
  return file;
}

async function keysUnder(lab: LabInfo, prefix: string): Promise<string[]> {
  const result = await etcdctlInLab(lab, ['get', prefix, '--prefix', '--keys-only']);
  if (result.code !== 0) throw new Error(`etcdctl get: ${result.stderr}`);
  return result.stdout.split('\n').filter(Boolean).sort();
}

async function leaders(lab: LabInfo): Promise<number> {
  const result = await etcdctlInLab(lab, ['endpoint', 'status', '-w', 'json']);
  const statuses = JSON.parse(result.stdout) as { Status: { header: { member_id: number }; leader: number } }[];
  return statuses.filter((s) => s.Status.header.member_id === s.Status.leader).length;
}

/** Every object s3rver holds (its files named `<key>._S3rver_object`), as keys. */
async function storedObjects(server: S3Server): Promise<string[]> {
  const root = join(server.dir, 'backups');
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return entries
    .filter((entry) => entry.endsWith('._S3rver_object'))
    .map((entry) => entry.slice(0, -'._S3rver_object'.length))
    .sort();
}

async function systemctlEvents(lab: LabInfo): Promise<number> {
  const logs = await Promise.all(lab.hosts.map((host) => readSystemctlLog(lab, host.address)));
  return logs.reduce((sum, log) => sum + log.length, 0);
}

describe('backups with remote copies on a lab (e2e, s3rver)', function () {
  this.timeout(300_000);
  let lab: LabInfo;
  let server: S3Server;
  let keys: AgeKeys;
  let inventory: string;
  let backupDir: string;
  let metricsFile: string;
  let identityEnv: Record<string, string>;
  const backups: BackupOutcome[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];

  const backup = (inventoryFile = inventory, extra: Partial<Parameters<typeof runBackup>[0]> = {}) =>
    runBackup({ inventoryFile, output: 'silent', remote: { policy: FAST_POLICY }, ...extra });

  before(async function () {
    this.timeout(180_000);
    const labDir = tempLabDir();
    cleanup.push(
      () => rm(dirname(labDir), { recursive: true, force: true }),
      () => stopLab(labDir),
    );
    lab = await startLab({ dir: labDir, net: '127.0.141', members: 3 });
    for (let i = 0; i < 20; i++) await etcdctlInLab(lab, ['put', `/registry/remote/key-${i}`, `value-${i}`]);
    server = await startS3Server({ buckets: ['backups'] });
    cleanup.push(() => server.destroy());
    const dir = dirname(lab.inventoryFile);
    keys = await ageKeygen(dirname(lab.dir));
    inventory = await remoteInventory(lab, 'remote.yml', server.endpoint, keys.recipient, await writeS3Credentials(dir, 's3-credentials'));
    backupDir = join(dir, 'backups');
    metricsFile = join(dir, '.orchestrate', 'metrics', 'orchestrate_backup.prom');
    identityEnv = { ORCHESTRATE_AGE_IDENTITY_FILE: keys.identityFile };
  });

  after(async function () {
    this.timeout(60_000);
    // Whatever before() got to: the server and the lab are stopped by pid.
    for (const stop of cleanup.reverse()) await stop();
  });

  it('backup --dry-run shows the copy (endpoint, bucket/key, encryption) with the secret masked, and writes nothing', async () => {
    const secret = 'DryRunSecretThatMustNeverBePrinted0123456789';
    const dry = await remoteInventory(
      lab,
      'dry.yml',
      server.endpoint,
      keys.recipient,
      await writeS3Credentials(dirname(lab.inventoryFile), 'dry-credentials', secret),
    );
    const result = await orchestrate(['backup', dry, '--dry-run']);
    expect(result.code, result.stderr).to.equal(0);
    const out = `${result.stdout}${result.stderr}`;
    expect(out).to.contain(`s3://backups/${PREFIX}snapshot_<time>_rev<revision>.db.age at ${server.endpoint}`);
    expect(out).to.contain('encrypted on the way with age for 1 recipient(s)');
    // s3rver's key id is too short to show a part of it.
    expect(out).to.contain(`with key ******** from ${join(dirname(lab.inventoryFile), 'dry-credentials')}`);
    expect(out).not.to.contain(secret);
    expect(await storedObjects(server)).to.deep.equal([]);
    expect((await readdir(backupDir).catch(() => [] as string[])).filter((n) => n.startsWith('snapshot'))).to.deep.equal([]);
  });

  it('backup copies the verified snapshot, age-encrypted, checked on the server; both places recorded; Debian age decrypts it', async () => {
    const outcome = await backup();
    backups.push(outcome);
    expect(outcome.exitCode, outcome.record?.error).to.equal(0);
    const record = outcome.record!;
    expect(record.where).to.equal('both');
    expect(record.remote).to.deep.include({ result: 'ok', encrypted: true, verifiedBy: 'server-md5' });
    const name = record.file!.split('/').pop()!;
    expect(record.remote?.url).to.equal(`s3://backups/${PREFIX}${name}.age`);
    // The object is a standard age file: the age CLI gives back the snapshot byte for byte.
    const object = server.objectFile('backups', `${PREFIX}${name}.age`);
    const { stdout } = await execFileAsync('age', ['-d', '-i', keys.identityFile, object], { encoding: 'buffer', maxBuffer: 1 << 26 });
    expect(createHash('sha256').update(stdout).digest('hex')).to.equal(await sha256Of(record.file!));
    const catalog = (await readFile(outcome.catalog, 'utf8')).trim().split('\n');
    expect(JSON.parse(catalog.at(-1)!)).to.deep.include({ result: 'ok', where: 'both' });
    const metrics = await readFile(metricsFile, 'utf8');
    expect(metric(metrics, 'orchestrate_backup_remote_last_attempt_success')).to.equal(1);
    expect(metric(metrics, 'orchestrate_backup_remote_consecutive_failures')).to.equal(0);
    expect(metric(metrics, 'orchestrate_backup_last_attempt_success')).to.equal(1);
  });

  it('the server stopped mid-upload fails the attempt (exit 3); the verified local snapshot is kept and recorded local-only', async () => {
    const doomed = await startS3Server({ buckets: ['backups'] });
    const proxy = await startFaultProxy(doomed.port);
    try {
      const inv = await remoteInventory(lab, 'doomed.yml', proxy.endpoint, keys.recipient, join(dirname(lab.inventoryFile), 's3-credentials'));
      // A slow link keeps the upload going long enough to pull the server away under it.
      proxy.throttle(8 * 1024);
      // Product-shaped policy, shorter: the upload is not cut off by its own deadline, and gives up after 2 tries.
      const policy = { maxAttempts: 2, backoffBaseMs: 50, backoffMaxMs: 200, stallTimeoutMs: 30_000, minPartTimeoutMs: 30_000 };
      const running = backup(inv, { remote: { policy } });
      const deadline = Date.now() + 60_000;
      while (!proxy.seen.some((line) => line.startsWith('PUT ') && line.includes('.age')) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      doomed.kill();
      const outcome = await running;
      backups.push(outcome);
      expect(outcome.exitCode).to.equal(3);
      const record = outcome.record!;
      expect(record).to.deep.include({ result: 'failed', where: 'local' });
      expect(record.remote).to.deep.include({ result: 'failed', encrypted: true });
      expect(record.error).to.match(/remote copy failed: .*snapshot_.*\.db\.age.*kept and recorded as local-only/);
      // Kept, named and verified like any other local snapshot.
      expect((await stat(record.file!)).mode & 0o777).to.equal(0o600);
      const list = await orchestrate(['snapshots', 'verify', record.file!]);
      expect(list.code, list.stdout).to.equal(0);
      const metrics = await readFile(metricsFile, 'utf8');
      expect(metric(metrics, 'orchestrate_backup_remote_last_attempt_success')).to.equal(0);
      expect(metric(metrics, 'orchestrate_backup_remote_consecutive_failures')).to.equal(1);
      // The local snapshot is fresh: the local gauges say so; the remote ones carry the failure.
      expect(metric(metrics, 'orchestrate_backup_last_attempt_success')).to.equal(1);
    } finally {
      await proxy.close();
      await doomed.destroy();
    }
  });

  it('snapshots list shows where each snapshot lives; status shows the remote age and --max-remote-age alerts (exit 6)', async () => {
    backups.push(await backup());
    expect(backups[2]!.exitCode).to.equal(0);
    const list = await orchestrate(['snapshots', 'list', inventory]);
    expect(list.code, list.stderr).to.equal(0);
    const where = (outcome: BackupOutcome) => list.stdout.split('\n').find((line) => line.includes(outcome.record!.file!.split('/').pop()!)) ?? '';
    expect(where(backups[0]!)).to.match(/ both +ok \(recorded\) +ok \(server-md5, age\)/);
    expect(where(backups[1]!)).to.match(/ local +ok \(recorded\) +- /);

    const fresh = await orchestrate(['status', inventory, '--max-remote-age', '1h']);
    expect(fresh.code, fresh.stdout + fresh.stderr).to.equal(0);
    expect(fresh.stdout).to.contain(`newest verified remote copy: s3://backups/${PREFIX}`);
    expect(fresh.stdout).to.match(/ok: the newest verified remote copy is \d+s old \(max 1h\)/);
    await new Promise((r) => setTimeout(r, 2_000));
    const stale = await orchestrate(['status', inventory, '--max-remote-age', '1s']);
    expect(stale.code, stale.stdout).to.equal(6);
    expect(stale.stdout).to.match(/STALE: the newest verified remote copy is \d+s old, more than --max-remote-age 1s/);
  });

  it('snapshots prune --dry-run shows both places and deletes nothing; the real run applies it in each place', async () => {
    const objects = async () => (await storedObjects(server)).filter((key) => key.startsWith(PREFIX));
    const before = await objects();
    expect(before).to.have.length(2);
    const dry = await orchestrate(['snapshots', 'prune', inventory, '--keep-last', '1', '--dry-run']);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.contain(`in ${backupDir} (dry run: nothing deleted)`);
    expect(dry.stdout).to.contain(`in s3://backups/prod/snapshots/ (dry run: nothing deleted)`);
    const first = backups[0]!.record!.file!.split('/').pop()!;
    expect(dry.stdout).to.match(new RegExp(`would delete ${PREFIX}${first}\\.age`));
    expect(await objects()).to.deep.equal(before);
    const real = await orchestrate(['snapshots', 'prune', inventory, '--keep-last', '1']);
    expect(real.code, real.stderr).to.equal(0);
    expect(await objects()).to.have.length(1);
    const left = (await readdir(backupDir)).filter((n) => n.startsWith('snapshot_'));
    expect(left).to.deep.equal([backups[2]!.record!.file!.split('/').pop()!]);
  });

  it('snapshots pull latest downloads, decrypts and verifies the newest remote copy', async () => {
    const dest = join(dirname(lab.dir), 'pulled');
    const pulled = await orchestrate(['snapshots', 'pull', inventory, 'latest', '--dest', dest], identityEnv);
    expect(pulled.code, pulled.stderr).to.equal(0);
    const name = backups[2]!.record!.file!.split('/').pop()!;
    expect(await readdir(dest)).to.deep.equal([name]);
    expect(await sha256Of(join(dest, name))).to.equal(backups[2]!.record!.sha256);
    expect((await stat(join(dest, name))).mode & 0o777).to.equal(0o600);
  });

  it('restore --snapshot latest after backup_dir was deleted: pulled, verified here, then restored (keys back, one leader)', async () => {
    await etcdctlInLab(lab, ['put', '/registry/remote/after-backup', 'lost']);
    await etcdctlInLab(lab, ['del', '/registry/remote/key-1']);
    await rm(backupDir, { recursive: true, force: true });
    const events = await systemctlEvents(lab);
    const noIdentity = await orchestrate(['restore', inventory, '--snapshot', 'latest', '--yes']);
    expect(noIdentity.code, noIdentity.stderr).to.equal(2);
    expect(noIdentity.stderr).to.match(/encrypted and no age identity was given/);
    const other = await ageKeygen(dirname(lab.dir), 'other-identity.txt');
    const wrongIdentity = await orchestrate(['restore', inventory, '--snapshot', 'latest', '--yes'], {
      ORCHESTRATE_AGE_IDENTITY_FILE: other.identityFile,
    });
    expect(wrongIdentity.code, wrongIdentity.stderr).to.equal(2);
    expect(wrongIdentity.stderr).to.contain(`the age identity from ${other.identityFile} (public key ${other.recipient}) cannot decrypt`);
    expect(await systemctlEvents(lab)).to.equal(events);

    const restored = await orchestrate(['restore', inventory, '--snapshot', 'latest', '--yes'], identityEnv);
    expect(restored.code, `${restored.stdout}\n${restored.stderr}`).to.equal(0);
    expect(restored.stdout).to.match(
      /pulled s3:\/\/backups\/prod\/snapshots\/.*\.db\.age -> .*: checked against its record, decrypted and verified on this host/,
    );
    const expected = Array.from({ length: 20 }, (_, i) => `/registry/remote/key-${i}`).sort();
    expect(await keysUnder(lab, '/registry/remote/')).to.deep.equal(expected);
    expect(await leaders(lab)).to.equal(1);
    expect(await readdir(backupDir)).to.include(backups[2]!.record!.file!.split('/').pop()!);
  });

  it('restore --snapshot s3://bucket/key after backup_dir was deleted again: that object pulled, verified, restored', async () => {
    const name = backups[2]!.record!.file!.split('/').pop()!;
    await etcdctlInLab(lab, ['put', '/registry/remote/after-restore', 'lost']);
    await rm(backupDir, { recursive: true, force: true });
    const url = `s3://backups/${PREFIX}${name}.age`;
    const restored = await orchestrate(['restore', inventory, '--snapshot', url, '--yes'], identityEnv);
    expect(restored.code, `${restored.stdout}\n${restored.stderr}`).to.equal(0);
    expect(restored.stdout).to.contain(`pulled ${url} -> ${join(backupDir, name)}`);
    expect(await keysUnder(lab, '/registry/remote/')).to.deep.equal(Array.from({ length: 20 }, (_, i) => `/registry/remote/key-${i}`).sort());
    expect(await leaders(lab)).to.equal(1);
    expect(await sha256Of(join(backupDir, name))).to.equal(backups[2]!.record!.sha256);
  });

  it('an object altered on the server is refused by verify --remote and by restore, before any host is touched', async () => {
    const name = backups[2]!.record!.file!.split('/').pop()!;
    const key = `${PREFIX}${name}.age`;
    const file = server.objectFile('backups', key);
    const bytes = await readFile(file);
    bytes[bytes.length - 64] = (bytes[bytes.length - 64] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const verify = await orchestrate(['snapshots', 'verify', '--remote', inventory, 'latest'], identityEnv);
    expect(verify.code, verify.stderr).to.equal(3);
    expect(verify.stdout).to.match(new RegExp(`s3://backups/${key}: BAD: .*stored sha256`));
    const events = await systemctlEvents(lab);
    const restore = await orchestrate(['restore', inventory, '--snapshot', `s3://backups/${key}`, '--yes'], identityEnv);
    expect(restore.code, restore.stderr).to.equal(5);
    expect(restore.stderr).to.match(/altered or damaged on the server.*no host was touched/);
    expect(await systemctlEvents(lab)).to.equal(events);
  });
});
