import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../../src/config/inventory.js';
import { ConfigError } from '../../../src/errors.js';
import { placeRemoteProblems } from '../../../src/remote/place-problems.js';
import { remoteSettingsFor } from '../../../src/remote/remote-backups.js';
import { readRemoteSettings } from '../../../src/remote/settings.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

describe('remote settings (backup_remote, backup_encryption)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-remote-settings-'));
    await writeFile(join(dir, 'ca.pem'), 'not checked here');
    await writeFile(join(dir, 'creds'), '[default]\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function read(vars: string) {
    const file = join(dir, 'inventory.yml');
    await writeFile(file, `all:\n  vars:\n${vars.replace(/^/gm, '    ')}\n  children:\n    etcd:\n      hosts:\n        127.0.0.1: {}\n`);
    const { inventory } = await loadInventory(file);
    return { inventory, ...readRemoteSettings(inventory) };
  }

  it('no backup_remote: no settings, no problems', async () => {
    const { settings, problems } = await read('backup_dir: backups');
    expect([settings, problems]).to.deep.equal([undefined, []]);
  });

  it('reads every setting with its default', async () => {
    const { settings, problems } = await read(`backup_remote:
  endpoint: https://s3.example.net:9000/
  bucket: etcd-backups
  prefix: prod//etcd/
  ca_file: ca.pem
  credentials_file: creds
  profile: backup
  storage_class: STANDARD_IA
  keep_last: 3
backup_encryption:
  recipients: [${RECIPIENT}]`);
    expect(problems).to.deep.equal([]);
    expect(settings).to.deep.include({
      endpoint: 'https://s3.example.net:9000',
      region: 'us-east-1',
      bucket: 'etcd-backups',
      prefix: 'prod/etcd/',
      pathStyle: true,
      caFile: join(dir, 'ca.pem'),
      credentialsFile: join(dir, 'creds'),
      profile: 'backup',
      storageClass: 'STANDARD_IA',
      snapshotPrefix: 'prod/etcd/snapshots/',
      catalogPrefix: 'prod/etcd/catalog/',
      verify: 'auto',
      retention: { keepLast: 3 },
      encryption: { recipients: [RECIPIENT], local: false },
    });
  });

  it('AWS without an endpoint uses virtual-hosted style', async () => {
    const { settings } = await read(`backup_remote: { bucket: b-1, region: eu-west-3, allow_unencrypted: true }`);
    expect([settings?.endpoint, settings?.pathStyle, settings?.region, settings?.encryption]).to.deep.equal([
      undefined,
      false,
      'eu-west-3',
      undefined,
    ]);
  });

  const bad: [string, string, string, string][] = [
    ['a missing bucket', 'backup_remote: { allow_unencrypted: true }', 'remote.missing-bucket', 'backup_remote'],
    ['an invalid bucket name', 'backup_remote: { bucket: My_Bucket, allow_unencrypted: true }', 'remote.bad-bucket', 'backup_remote.bucket'],
    [
      'a secret key in the inventory',
      'backup_remote: { bucket: b-1, secret_access_key: x, allow_unencrypted: true }',
      'remote.secret-in-inventory',
      'backup_remote.secret_access_key',
    ],
    [
      'a password in the endpoint',
      'backup_remote: { bucket: b-1, endpoint: "https://k:s3cr3tpassword@h", allow_unencrypted: true }',
      'remote.secret-in-inventory',
      'backup_remote.endpoint',
    ],
    [
      'an AWS secret as a value',
      'backup_remote: { bucket: b-1, profile: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, allow_unencrypted: true }',
      'remote.secret-in-inventory',
      'backup_remote.profile',
    ],
    [
      'an unknown key, with a suggestion',
      'backup_remote: { bucket: b-1, regoin: x, allow_unencrypted: true }',
      'remote.unknown-key',
      'backup_remote.regoin',
    ],
    [
      'an archive storage class',
      'backup_remote: { bucket: b-1, storage_class: DEEP_ARCHIVE, allow_unencrypted: true }',
      'remote.archive-storage-class',
      'backup_remote.storage_class',
    ],
    [
      'a catalog inside the snapshots',
      'backup_remote: { bucket: b-1, catalog_prefix: snapshots/c, allow_unencrypted: true }',
      'remote.catalog-inside-snapshots',
      'backup_remote.catalog_prefix',
    ],
    [
      'a missing CA file',
      'backup_remote: { bucket: b-1, endpoint: "https://h", ca_file: nope.pem, allow_unencrypted: true }',
      'remote.file-missing',
      'backup_remote.ca_file',
    ],
    ['a template', 'backup_remote: { bucket: "{{ b }}", allow_unencrypted: true }', 'remote.templated', 'backup_remote.bucket'],
    ['a prefix climbing out', 'backup_remote: { bucket: b-1, prefix: a/../b, allow_unencrypted: true }', 'remote.bad-prefix', 'backup_remote.prefix'],
    ['no encryption and no opt-out', 'backup_remote: { bucket: b-1 }', 'remote.unencrypted', 'backup_remote'],
    [
      'a private key among the recipients',
      `backup_remote: { bucket: b-1 }\nbackup_encryption: { recipients: [AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ] }`,
      'remote.secret-in-inventory',
      'backup_encryption.recipients.0',
    ],
    [
      'a recipient of the wrong kind',
      `backup_remote: { bucket: b-1 }\nbackup_encryption: { recipients: [ssh-ed25519 AAAA] }`,
      'encryption.bad-recipient',
      'backup_encryption.recipients.0',
    ],
    [
      'an identity key in the inventory',
      `backup_remote: { bucket: b-1 }\nbackup_encryption: { recipients: [${RECIPIENT}], identity: x }`,
      'remote.secret-in-inventory',
      'backup_encryption.identity',
    ],
  ];
  for (const [what, vars, code, variable] of bad) {
    it(`refuses ${what}, naming ${variable} and the fix`, async () => {
      const { settings, problems } = await read(vars);
      expect(settings).to.equal(undefined);
      const problem = problems.find((p) => p.code === code);
      expect(problem, JSON.stringify(problems)).to.not.equal(undefined);
      expect(problem?.variable).to.equal(variable);
      expect(problem?.fix).to.be.a('string').and.not.equal('');
    });
  }

  it('never repeats a secret in a message', async () => {
    const { problems } = await read(
      'backup_remote: { bucket: b-1, endpoint: "https://key:s3cr3tpassword@h", token: hunter2hunter2, allow_unencrypted: true }',
    );
    const text = JSON.stringify(problems);
    expect(text).not.to.include('s3cr3tpassword');
    expect(text).not.to.include('hunter2hunter2');
  });

  it('places problems at file:line:col with the line, and fails as a ConfigError', async () => {
    const { inventory, problems } = await read('backup_remote:\n  bucket: b-1\n  storage_class: GLACIER\n  allow_unencrypted: true');
    const [placed] = placeRemoteProblems(inventory, problems);
    expect(placed?.loc).to.deep.equal({ file: join(dir, 'inventory.yml'), line: 5, col: 22 });
    expect(placed?.lineText).to.equal('      storage_class: GLACIER');
    expect(placed?.hint).to.match(/GLACIER_IR/);
    expect(() => remoteSettingsFor(inventory)).to.throw(ConfigError);
  });

  it('a warning (plain http to another host) does not stop anything', async () => {
    const { inventory } = await read('backup_remote: { bucket: b-1, endpoint: "http://s3.internal:9000", allow_unencrypted: true }');
    const { settings, warnings } = remoteSettingsFor(inventory);
    expect(settings?.endpoint).to.equal('http://s3.internal:9000');
    expect(warnings.map((w) => [w.severity, w.code])).to.deep.equal([['warning', 'remote.plain-http']]);
  });
});
