// Encrypted local snapshots (backup_encryption.local: true) end to end on a lab of 3 real hosts (sshd +
// TLS etcd) with a real S3 server on loopback (s3rver): `backup` leaves only `<name>.db.age` in backup_dir
// (Debian's age decrypts it to the verified snapshot), `snapshots list/verify` read it, a missing or wrong
// identity is refused before any host is touched, `drill` and `restore` decrypt it into a temporary file
// that is gone afterwards, the remote copy is the same age file, and `drill --snapshot s3://...`
// downloads, checks and decrypts one. Needs root. Net 127.0.157.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { runBackup, type BackupOutcome } from '../../src/commands/backup.js';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { etcdctlInLab, readSystemctlLog, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { ageKeygen, FAST_POLICY, writeS3Credentials, type AgeKeys } from './remote-helpers.js';

const execFileAsync = promisify(execFile);
const CLUSTER = 'etcd-cluster-0';

function orchestrate(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCliFromSource(args, { env, timeoutMs: 240_000 });
}

const sha256Of = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

async function systemctlEvents(lab: LabInfo): Promise<number> {
  const logs = await Promise.all(lab.hosts.map((host) => readSystemctlLog(lab, host.address)));
  return logs.reduce((sum, log) => sum + log.length, 0);
}

async function keysUnder(lab: LabInfo, prefix: string): Promise<string[]> {
  const result = await etcdctlInLab(lab, ['get', prefix, '--prefix', '--keys-only']);
  if (result.code !== 0) throw new Error(`etcdctl get: ${result.stderr}`);
  return result.stdout.split('\n').filter(Boolean).sort();
}

describe('encrypted local snapshots on a lab (e2e, backup_encryption.local)', function () {
  this.timeout(300_000);
  let lab: LabInfo;
  let server: S3Server;
  let keys: AgeKeys;
  let localOnly: string;
  let withRemote: string;
  let backupDir: string;
  let work: string;
  let identityEnv: Record<string, string>;
  let first: BackupOutcome;
  const cleanup: (() => Promise<unknown>)[] = [];

  /** The lab's inventory with backup_encryption.local (and backup_remote when given), beside it. */
  async function inventoryWith(name: string, remote?: Record<string, unknown>): Promise<string> {
    const doc = parse(await readFile(lab.inventoryFile, 'utf8')) as { all: { vars?: Record<string, unknown> } };
    doc.all.vars = {
      ...doc.all.vars,
      backup_encryption: { recipients: [keys.recipient], local: true },
      ...(remote ? { backup_remote: remote } : {}),
    };
    const file = join(dirname(lab.inventoryFile), name);
    await writeFile(file, stringify(doc));
    return file;
  }

  /** backup_dir holds encrypted snapshots only: no clear snapshot, no pointer, no temporary left. */
  async function onlyEncrypted(): Promise<string[]> {
    const names = await readdir(backupDir);
    expect(
      names.filter((n) => !n.endsWith('.db.age')),
      names.join(', '),
    ).to.deep.equal([]);
    return names;
  }

  before(async function () {
    this.timeout(180_000);
    const labDir = tempLabDir();
    cleanup.push(
      () => rm(dirname(labDir), { recursive: true, force: true }),
      () => stopLab(labDir),
    );
    lab = await startLab({ dir: labDir, net: '127.0.157', members: 3 });
    for (let i = 0; i < 10; i++) await etcdctlInLab(lab, ['put', `/registry/sealed/key-${i}`, `value-${i}`]);
    server = await startS3Server({ buckets: ['backups'] });
    cleanup.push(() => server.destroy());
    keys = await ageKeygen(dirname(lab.dir));
    identityEnv = { ORCHESTRATE_AGE_IDENTITY_FILE: keys.identityFile };
    localOnly = await inventoryWith('sealed.yml');
    const credentials = await writeS3Credentials(dirname(lab.inventoryFile), 's3-credentials');
    withRemote = await inventoryWith('sealed-remote.yml', {
      endpoint: server.endpoint,
      bucket: 'backups',
      prefix: 'prod/',
      credentials_file: credentials,
    });
    backupDir = join(dirname(lab.inventoryFile), 'backups');
    work = await mkdtemp(join(tmpdir(), 'orchestrate-sealed-drill-'));
    cleanup.push(() => rm(work, { recursive: true, force: true }));
  });

  after(async function () {
    this.timeout(60_000);
    for (const stop of cleanup.reverse()) await stop();
  });

  it('backup writes <name>.db.age only (0600), records both sha256s, and Debian age decrypts it to the verified snapshot', async () => {
    first = await runBackup({ inventoryFile: localOnly, output: 'silent' });
    expect(first.exitCode, first.record?.error).to.equal(0);
    const record = first.record!;
    expect(record.file).to.match(/\/snapshot_\d{8}T\d{6}Z_rev\d+\.db\.age$/);
    expect(await onlyEncrypted()).to.deep.equal([record.file!.split('/').pop()]);
    expect((await stat(record.file!)).mode & 0o777).to.equal(0o600);
    expect(record.encrypted).to.deep.equal({ size: (await stat(record.file!)).size, sha256: await sha256Of(record.file!) });
    const { stdout } = await execFileAsync('age', ['-d', '-i', keys.identityFile, record.file!], { encoding: 'buffer', maxBuffer: 1 << 26 });
    expect(createHash('sha256').update(stdout).digest('hex')).to.equal(record.sha256);
    expect(stdout.length).to.equal(record.size);
  });

  it('snapshots list shows it verified; snapshots verify FILE.age decrypts and checks it with the identity, and needs one', async () => {
    const list = await orchestrate(['snapshots', 'list', localOnly, '--verify']);
    expect(list.code, list.stderr).to.equal(0);
    const name = first.record!.file!.split('/').pop()!;
    expect(list.stdout.split('\n').find((line) => line.includes(name))).to.match(/ok \(verified now\).*\(age\)/);
    const verify = await orchestrate(['snapshots', 'verify', first.record!.file!], identityEnv);
    expect(verify.code, verify.stdout + verify.stderr).to.equal(0);
    expect(verify.stdout).to.contain(`revision ${first.record!.revision}, ${first.record!.keys} keys`);
    const noIdentity = await orchestrate(['snapshots', 'verify', first.record!.file!]);
    expect(noIdentity.code).to.equal(2);
    expect(noIdentity.stderr).to.match(/no age identity was given/);
    await onlyEncrypted();
  });

  it('restore with a missing or a wrong identity is refused (exit 2) before any host is touched', async () => {
    const events = await systemctlEvents(lab);
    const missing = await orchestrate(['restore', localOnly, '--snapshot', 'latest', '--yes']);
    expect(missing.code, missing.stderr).to.equal(2);
    expect(missing.stderr).to.match(/no age identity was given/);
    const other = await ageKeygen(dirname(lab.dir), 'other-identity.txt');
    const wrong = await orchestrate(['restore', localOnly, '--snapshot', 'latest', '--yes'], { ORCHESTRATE_AGE_IDENTITY_FILE: other.identityFile });
    expect(wrong.code, wrong.stderr).to.equal(2);
    expect(wrong.stderr).to.contain(
      `the age identity from ${other.identityFile} (public key ${other.recipient}) cannot decrypt ${first.record!.file}`,
    );
    expect(await systemctlEvents(lab)).to.equal(events);
    await onlyEncrypted();
  });

  it('drill --snapshot latest decrypts it into a temporary file, passes, and leaves backup_dir as it was', async () => {
    const before = await onlyEncrypted();
    const result = await orchestrate(['drill', localOnly, '--json', '--work-dir', work], identityEnv);
    expect(result.code, result.stdout.slice(-2000) + result.stderr).to.equal(0);
    const drill = JSON.parse(result.stdout) as { ok: boolean; snapshot: { path: string; sha256: string } };
    expect(drill.ok).to.equal(true);
    expect(drill.snapshot).to.deep.include({ path: first.record!.file, sha256: first.record!.sha256 });
    expect(await onlyEncrypted()).to.deep.equal(before);
  });

  it('restore --snapshot latest decrypts it here, verifies it, restores it (keys back), and removes the clear copy', async () => {
    await etcdctlInLab(lab, ['put', '/registry/sealed/after-backup', 'lost']);
    await etcdctlInLab(lab, ['del', '/registry/sealed/key-3']);
    const restored = await orchestrate(['restore', localOnly, '--snapshot', 'latest', '--yes'], identityEnv);
    expect(restored.code, `${restored.stdout}\n${restored.stderr}`).to.equal(0);
    expect(restored.stdout).to.contain(`decrypted ${first.record!.file} into ${backupDir}/.decrypted.tmp-`);
    expect(await keysUnder(lab, '/registry/sealed/')).to.deep.equal(Array.from({ length: 10 }, (_, i) => `/registry/sealed/key-${i}`).sort());
    await onlyEncrypted();
  });

  it('with backup_remote the copy is the local age file itself; drill --snapshot s3://... downloads, checks, decrypts it', async () => {
    const outcome = await runBackup({ inventoryFile: withRemote, output: 'silent', remote: { policy: FAST_POLICY } });
    expect(outcome.exitCode, outcome.record?.error).to.equal(0);
    const record = outcome.record!;
    const name = record.file!.split('/').pop()!;
    const key = `prod/snapshots/${CLUSTER}/${name}`;
    expect(record.remote).to.deep.include({ result: 'ok', encrypted: true, url: `s3://backups/${key}`, sha256: record.encrypted!.sha256 });
    expect(await sha256Of(server.objectFile('backups', key))).to.equal(record.encrypted!.sha256);
    const before = await onlyEncrypted();

    const result = await orchestrate(['drill', withRemote, '--snapshot', `s3://backups/${key}`, '--json', '--work-dir', work], identityEnv);
    expect(result.code, result.stdout.slice(-2000) + result.stderr).to.equal(0);
    const drill = JSON.parse(result.stdout) as { ok: boolean; snapshot: { path: string; sha256: string; revision: number } };
    expect(drill.snapshot).to.deep.include({ path: `s3://backups/${key}`, sha256: record.sha256, revision: record.revision });
    expect(await onlyEncrypted()).to.deep.equal(before);

    const noIdentity = await orchestrate(['drill', withRemote, '--snapshot', `s3://backups/${key}`, '--json', '--work-dir', work]);
    expect(noIdentity.code).to.equal(5);
    expect(noIdentity.stdout).to.match(/no age identity was given/);
  });
});
