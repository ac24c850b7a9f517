// What `snapshots list` prints with backup_remote: one row per snapshot, where it lives, each copy's state.
import { expect } from 'chai';
import { formatPlaces, remoteState } from '../../../src/commands/snapshots-format.js';
import type { SnapshotRow } from '../../../src/etcd/backup/snapshot-inventory.js';
import { mergePlaces } from '../../../src/remote/places.js';
import { REMOTE_CATALOG_FORMAT, type RemoteCopyRecord } from '../../../src/remote/remote-catalog.js';

const now = Date.parse('2026-12-02T12:00:00Z');

function local(name: string, iso: string, extra: Partial<SnapshotRow> = {}): SnapshotRow {
  return {
    name,
    path: `/b/${name}`,
    takenAt: Date.parse(iso),
    size: 20512,
    revision: 2,
    keys: 5,
    status: 'ok',
    checked: 'catalog',
    isPointer: false,
    foreign: false,
    ...extra,
  };
}

function remote(name: string, iso: string, extra: Partial<RemoteCopyRecord> = {}): RemoteCopyRecord {
  return {
    format: REMOTE_CATALOG_FORMAT,
    cluster: 'c',
    name,
    key: `p/snapshots/c/${name}.age`,
    takenAt: iso,
    uploadedAt: iso,
    size: 20700,
    plaintextSize: 20512,
    plaintextSha256: 'a'.repeat(64),
    encrypted: true,
    revision: 2,
    verified: true,
    verifiedBy: 'server-sha256',
    ...extra,
  };
}

describe('snapshots list with remote copies', () => {
  it('one row per snapshot, newest first: both, local only, remote only, unverified and damaged copies', () => {
    const rows = [
      local('snapshot_20261202T100000Z_rev2.db', '2026-12-02T10:00:00Z', { isPointer: true }),
      local('snapshot_20261201T100000Z_rev2.db', '2026-12-01T10:00:00Z', { status: 'bad', checked: 'verified', problems: 'sha256 trailer mismatch' }),
    ];
    const copies = [
      remote('snapshot_20261202T100000Z_rev2.db', '2026-12-02T10:00:00Z'),
      remote('snapshot_20261130T100000Z_rev2.db', '2026-11-30T10:00:00Z', { verified: false, rebuilt: true }),
      remote('snapshot_20261129T100000Z_rev2.db', '2026-11-29T10:00:00Z', { verified: false, problem: 'stored sha256 x, recorded y' }),
    ];
    const text = formatPlaces(mergePlaces(rows, copies), rows, now);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).to.match(/^TIME \(UTC\) +AGE +SIZE +REVISION +KEYS +WHERE +LOCAL +REMOTE +SNAPSHOT$/);
    expect(lines[1]).to.match(/ both +ok \(recorded\) +ok \(server-sha256, age\) +snapshot_20261202T100000Z_rev2\.db = snapshot\.db$/);
    expect(lines[2]).to.match(/ local +BAD \(verified now\): sha256 trailer mismatch +- +snapshot_20261201T100000Z_rev2\.db$/);
    expect(lines[3]).to.match(
      / remote +- +UNVERIFIED \(found without a catalog record, age\): run snapshots verify --remote +snapshot_20261130T100000Z_rev2\.db$/,
    );
    expect(lines[4]).to.match(/ remote +- +BAD: stored sha256 x, recorded y +snapshot_20261129T100000Z_rev2\.db$/);
    expect(lines[3]).to.match(/^2026-11-30T10:00:00Z +2d 2h +20 KiB +2 +- /);
  });

  it('says so when neither place has a snapshot', () => {
    expect(formatPlaces([], [], now)).to.match(/^no snapshots yet, in either place/);
    expect(remoteState(undefined)).to.equal('-');
  });
});
