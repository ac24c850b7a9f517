// Remote copies end to end against a real S3 server on loopback (s3rver, in its own process): upload,
// server-side verification, the catalog kept apart from the snapshots, pull and `latest` after backup_dir
// is gone, an object altered on the server, identities, and the age command-line tool on both sides.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { catalogKey } from '../../src/remote/remote-catalog.js';
import { IdentityError } from '../../src/remote/identity.js';
import { loadIdentityFor, type RemoteBackups } from '../../src/remote/remote-backups.js';
import { RemoteCopyError } from '../../src/remote/remote-errors.js';
import { readRemoteAttempts } from '../../src/remote/remote-attempts.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { judgeRemoteFreshness } from '../../src/remote/places.js';
import { decryptToTemporary, encryptLocalCopy } from '../../src/remote/local-encryption.js';
import { ageKeygen, FAST_POLICY, openRemote, placeSnapshot, remoteFixture, SNAPSHOT_FIXTURE, type RemoteFixture } from './remote-helpers.js';

const execFileAsync = promisify(execFile);

async function readObject(remote: RemoteBackups, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of (await remote.store.get(key)) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('remote copies (s3rver on loopback)', function () {
  this.timeout(120_000);
  let server: S3Server;
  let fixture: RemoteFixture;
  let remote: RemoteBackups;

  before(async () => {
    server = await startS3Server({ buckets: ['backups'] });
    fixture = await remoteFixture({ endpoint: server.endpoint });
    remote = await openRemote(fixture);
  });
  after(async () => {
    remote.close();
    await server.destroy();
    await rm(fixture.dir, { recursive: true, force: true });
  });

  it('uploads an encrypted copy, verifies it on the server and records it apart from the snapshots', async () => {
    const snapshot = await placeSnapshot(fixture);
    const result = await remote.copy(snapshot);
    expect(result.record.verified).to.equal(true);
    expect(result.record.key).to.equal('prod/etcd/snapshots/remote-test/snapshot_20261201T101500Z_rev2.db.age');
    // s3rver keeps no SHA-256 checksums; its multipart ETag is the MD5 of the whole object as stored.
    expect(result.record.verifiedBy).to.equal('server-md5');
    expect(result.record.plaintextSha256).to.equal(snapshot.sha256);
    const stored = await readObject(remote, result.record.key);
    expect(createHash('sha256').update(stored).digest('hex')).to.equal(result.record.sha256);
    expect(stored.subarray(0, 21).toString()).to.equal('age-encryption.org/v1');
    // The catalog lives under its own prefix, not under the snapshots'.
    const key = catalogKey(remote.settings, 'remote-test');
    expect(key).to.equal('prod/etcd/catalog/remote-test.json');
    const catalog = JSON.parse((await readObject(remote, key)).toString()) as { copies: { key: string; verified: boolean }[] };
    expect(catalog.copies.map((c) => [c.key, c.verified])).to.deep.equal([[result.record.key, true]]);
    const attempts = await readRemoteAttempts(remote.attemptsFile);
    expect(attempts.map((a) => a.result)).to.deep.equal(['ok']);
    expect((await remote.metrics()).lastAttemptSuccess).to.equal(1);
  });

  it("decrypts with Debian's age, and decrypts what age encrypts", async () => {
    const { copies } = await remote.catalog();
    const stored = await readObject(remote, copies[0]!.key);
    const encrypted = join(fixture.dir, 'copy.age');
    await writeFile(encrypted, stored);
    const { stdout } = await execFileAsync('age', ['-d', '-i', fixture.keys.identityFile, encrypted], { encoding: 'buffer', maxBuffer: 1 << 24 });
    expect(createHash('sha256').update(stdout).digest('hex')).to.equal(copies[0]!.plaintextSha256);

    // The other way: a file age encrypted, put where a copy would be, pulled and decrypted by us.
    const theirs = join(fixture.dir, 'theirs.age');
    await execFileAsync('age', ['-r', fixture.keys.recipient, '-o', theirs, join(fixture.backupDir, 'snapshot_20261201T101500Z_rev2.db')]);
    const key = 'prod/etcd/snapshots/remote-test/by-hand/snapshot_20261130T000000Z_rev2.db.age';
    await remote.store.put(key, await readFile(theirs));
    const identity = await loadIdentityFor(remote.settings, { ORCHESTRATE_AGE_IDENTITY_FILE: fixture.keys.identityFile });
    const elsewhere = join(fixture.dir, 'pulled-by-url');
    const chosen = await remote.choose(`s3://backups/${key}`, [], elsewhere, identity);
    expect(chosen.place).to.equal('remote');
    if (chosen.place !== 'remote') return;
    expect(chosen.pulled.sha256).to.equal(copies[0]!.plaintextSha256);
    expect(chosen.pulled.revision).to.equal(2);
    await remote.store.delete(key);
  });

  it('after backup_dir is lost, `latest` pulls the newest verified copy and verifies it on the deploy host', async () => {
    await rm(fixture.backupDir, { recursive: true, force: true });
    const identity = await loadIdentityFor(remote.settings, { ORCHESTRATE_AGE_IDENTITY_FILE: fixture.keys.identityFile });
    const chosen = await remote.choose('latest', [], fixture.backupDir, identity);
    expect(chosen.place).to.equal('remote');
    if (chosen.place !== 'remote') return;
    expect(chosen.pulled.path).to.equal(join(fixture.backupDir, 'snapshot_20261201T101500Z_rev2.db'));
    expect(chosen.pulled.totalKey).to.equal(5);
    const info = await stat(chosen.pulled.path);
    expect(info.mode & 0o777).to.equal(0o600);
    expect(await readdir(fixture.backupDir)).to.deep.equal(['snapshot_20261201T101500Z_rev2.db']);
  });

  it('refuses a missing or wrong identity before downloading the snapshot', async () => {
    const { copies } = await remote.catalog();
    const copy = copies[0]!;
    await expectRejection(remote.pull(copy, join(fixture.dir, 'no-identity')), IdentityError, /no age identity was given/);
    const stranger = await ageKeygen(fixture.dir, 'stranger.txt');
    const wrong = await loadIdentityFor(remote.settings, { ORCHESTRATE_AGE_IDENTITY_FILE: stranger.identityFile });
    expect(wrong.matchesInventory).to.equal(false);
    await expectRejection(
      remote.pull(copy, join(fixture.dir, 'wrong-identity'), wrong),
      IdentityError,
      /cannot decrypt .* encrypted for other recipients/,
    );
    expect(await readdir(fixture.dir)).not.to.include('wrong-identity');
  });

  it('a lost remote catalog is rebuilt from the objects; the copies count again once read back', async () => {
    await remote.store.delete(catalogKey(remote.settings, 'remote-test'));
    const rebuilt = await remote.catalog();
    expect(rebuilt.state).to.equal('rebuilt');
    expect(rebuilt.copies.map((c) => [c.name, c.verified, c.rebuilt])).to.deep.equal([['snapshot_20261201T101500Z_rev2.db', false, true]]);
    const identity = await loadIdentityFor(remote.settings, { ORCHESTRATE_AGE_IDENTITY: (await readFile(fixture.keys.identityFile, 'utf8')).trim() });
    const check = await remote.checkCopy(rebuilt.copies[0]!, identity);
    expect(check.ok, check.problems.join('; ')).to.equal(true);
    const after = await remote.catalog();
    expect(after.copies.map((c) => c.verified)).to.deep.equal([true]);
  });

  it('an object altered on the server is refused by verify and pull, and nothing is left behind', async () => {
    const { copies } = await remote.catalog();
    const copy = copies[0]!;
    const file = server.objectFile('backups', copy.key);
    const bytes = await readFile(file);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    await writeFile(file, bytes);
    const identity = await loadIdentityFor(remote.settings, { ORCHESTRATE_AGE_IDENTITY_FILE: fixture.keys.identityFile });
    const check = await remote.checkCopy(copy, identity);
    expect(check.ok).to.equal(false);
    expect(check.problems.join('; ')).to.match(/stored sha256 .* recorded/);
    const dest = join(fixture.dir, 'altered');
    await expectRejection(remote.pull(copy, dest, identity), RemoteCopyError, /altered or damaged on the server/);
    expect(await readdir(dest)).to.deep.equal([]);
    // It no longer counts: not for `latest`, not for retention (and it is kept as evidence).
    const [after] = (await remote.catalog()).copies;
    expect(after?.verified).to.equal(false);
    expect(after?.problem).to.match(/altered or damaged on the server/);
    await expectRejection(remote.choose('latest', [], join(fixture.dir, 'latest-after-damage'), identity), RemoteCopyError, /no verified snapshot/);
  });

  it('prunes each place by its policy: dry-run deletes nothing, the newest verified copy stays', async () => {
    for (const [name, day] of [
      ['snapshot_20261120T101500Z_rev2.db', 20],
      ['snapshot_20261125T101500Z_rev2.db', 25],
    ] as const) {
      const snapshot = await placeSnapshot(fixture, name);
      await remote.copy({ ...snapshot, takenAt: new Date(`2026-11-${day}T10:15:00Z`) });
    }
    const local = [
      { name: 'snapshot_20261125T101500Z_rev2.db', path: '/x', takenAt: Date.parse('2026-11-25T10:15:00Z'), size: 1, status: 'ok' as const },
    ];
    const plan = await remote.planPrune(local, { keepLast: 1 });
    expect(plan.local.delete).to.deep.equal([]);
    // The Dec 1 copy was found altered above: unverified, it counts for nothing and is kept as evidence;
    // keep-last 1 keeps the newest verified one (Nov 25) and lets Nov 20 go.
    const reasons = new Map(plan.remote.keep.map((d) => [d.entry.copy.name, d.reasons.join('; ')]));
    expect(reasons.get('snapshot_20261201T101500Z_rev2.db')).to.match(/not verified/);
    expect(reasons.get('snapshot_20261125T101500Z_rev2.db')).to.match(/newest verified snapshot \(never deleted\)/);
    const going = plan.remote.delete.map((d) => d.entry.copy.key);
    expect(going).to.deep.equal(['prod/etcd/snapshots/remote-test/snapshot_20261120T101500Z_rev2.db.age']);
    expect((await remote.prune(plan.remote, { dryRun: true })).deleted).to.deep.equal([]);
    expect((await remote.catalog()).copies).to.have.length(3);
    const pruned = await remote.prune(plan.remote);
    expect(pruned.deleted).to.deep.equal(going);
    expect((await remote.catalog({ reconcile: true })).copies.map((c) => c.name)).to.deep.equal([
      'snapshot_20261201T101500Z_rev2.db',
      'snapshot_20261125T101500Z_rev2.db',
    ]);
    for (const key of going) expect(await remote.store.head(key)).to.equal(undefined);
  });

  it('status reads the newest verified copy from the remote, and from the attempt log when the remote is down', async () => {
    const fromRemote = await remote.newestCopy();
    expect([fromRemote.source, fromRemote.takenAt]).to.deep.equal(['remote', '2026-11-25T10:15:00.000Z']);
    const down = await remoteFixture({ endpoint: 'http://127.0.0.1:9' });
    const offline = await openRemote(down, { ...FAST_POLICY });
    try {
      const attempts = join(down.dir, '.orchestrate', 'catalog', 'remote-test.remote.jsonl');
      await mkdir(dirname(attempts), { recursive: true });
      await writeFile(
        attempts,
        `${JSON.stringify({ cluster: 'remote-test', start: 'x', end: '2026-12-02T00:00:00Z', durationMs: 1, result: 'ok', name: 'n', takenAt: '2026-12-01T23:00:00Z' })}\n`,
      );
      const fallback = await offline.newestCopy();
      expect([fallback.source, fallback.takenAt]).to.deep.equal(['attempt log', '2026-12-01T23:00:00Z']);
      expect(fallback.warnings[0]).to.match(/cannot be reached .*ECONNREFUSED/);
      expect(judgeRemoteFreshness(fallback.takenAt, 6 * 3_600_000, Date.parse('2026-12-02T03:00:00Z'))).to.deep.include({ stale: false });
      expect(judgeRemoteFreshness(fallback.takenAt, 6 * 3_600_000, Date.parse('2026-12-02T06:00:00Z')).message).to.match(
        /7\.0h old, older than --max-remote-age 6\.0h/,
      );
    } finally {
      offline.close();
      await rm(down.dir, { recursive: true, force: true });
    }
  });

  it('uploads a multi-part object unencrypted and, with verify: read-back, reads every byte back', async () => {
    const plain = await remoteFixture({ endpoint: server.endpoint, encrypted: false, extraRemote: '      verify: read-back\n' });
    const plainRemote = await openRemote(plain);
    try {
      const path = join(plain.backupDir, 'snapshot_20261202T000000Z_rev9.db');
      const data = randomBytes(19 * 1024 * 1024 + 123);
      await writeFile(path, data);
      const sha256 = createHash('sha256').update(data).digest('hex');
      const result = await plainRemote.copy({
        path,
        name: 'snapshot_20261202T000000Z_rev9.db',
        takenAt: new Date('2026-12-02T00:00:00Z'),
        size: data.length,
        sha256,
      });
      expect(result.record.sha256).to.equal(sha256);
      expect(result.record.encrypted).to.equal(false);
      expect(result.record.verifiedBy).to.equal('read-back');
      const head = await plainRemote.store.head(result.record.key);
      expect(head?.size).to.equal(data.length);
      // A second copy of the same snapshot finds the verified one and uploads nothing.
      const again = await plainRemote.copy({
        path,
        name: 'snapshot_20261202T000000Z_rev9.db',
        takenAt: new Date('2026-12-02T00:00:00Z'),
        size: data.length,
        sha256,
      });
      expect(again.alreadyThere).to.equal(true);
    } finally {
      plainRemote.close();
      await rm(plain.dir, { recursive: true, force: true });
    }
  });
});

describe('encrypted local copies', () => {
  let fixture: RemoteFixture;
  before(async () => {
    fixture = await remoteFixture({ endpoint: 'http://127.0.0.1:9' });
  });
  after(() => rm(fixture.dir, { recursive: true, force: true }));

  it('writes <name>.age owner-only with both sha256s; age decrypts it; we decrypt and verify it back; a wrong key is refused', async () => {
    const snapshot = await placeSnapshot(fixture);
    const sealed = await encryptLocalCopy(snapshot.path, [fixture.keys.recipient], snapshot.sha256);
    expect(sealed.path).to.equal(`${snapshot.path}.age`);
    expect((await stat(sealed.path)).mode & 0o777).to.equal(0o600);
    expect(sealed.plaintextSha256).to.equal(snapshot.sha256);
    expect(sealed.sha256).to.equal(
      createHash('sha256')
        .update(await readFile(sealed.path))
        .digest('hex'),
    );
    const { stdout } = await execFileAsync('age', ['-d', '-i', fixture.keys.identityFile, sealed.path], { encoding: 'buffer', maxBuffer: 1 << 24 });
    expect(stdout.equals(await readFile(SNAPSHOT_FIXTURE))).to.equal(true);

    const identity = await loadIdentityFor(undefined, { ORCHESTRATE_AGE_IDENTITY_FILE: fixture.keys.identityFile });
    const restoreDir = join(fixture.dir, 'restore');
    await mkdir(restoreDir);
    const back = await decryptToTemporary(sealed.path, identity, { dir: restoreDir, expect: { sha256: snapshot.sha256 } });
    expect([basename(back.path), back.sha256, back.report.status.revision, back.report.status.totalKey, back.ciphertextSha256]).to.deep.equal([
      snapshot.name,
      snapshot.sha256,
      2,
      5,
      sealed.sha256,
    ]);
    await back.discard();
    expect(await readdir(restoreDir)).to.deep.equal([]);

    const stranger = await loadIdentityFor(undefined, { ORCHESTRATE_AGE_IDENTITY_FILE: (await ageKeygen(fixture.dir, 'other.txt')).identityFile });
    await expectRejection(decryptToTemporary(sealed.path, stranger, { dir: restoreDir }), IdentityError, /encrypted for other recipients/);
    expect(await readdir(restoreDir)).to.deep.equal([]);
    await expectRejection(
      encryptLocalCopy(snapshot.path, [fixture.keys.recipient], 'f'.repeat(64)),
      RemoteCopyError,
      /changed since it was verified/,
    );
  });
});

async function expectRejection(promise: Promise<unknown>, type: new (...args: never[]) => Error, message: RegExp): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(type);
    expect((error as Error).message).to.match(message);
    return error as Error;
  }
  throw new Error('expected a rejection');
}
