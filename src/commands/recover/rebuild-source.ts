// Path 2's snapshot: a copy of the freshest member's db, never the file itself. When etcd still runs on
// that member (without a quorum it serves no writes) the copy is a snapshot streamed through the etcd
// client; when it is stopped, member/snap/db is downloaded as it is (sftp, sha256-checked). The file lands
// owner-only in <backup_dir>/rescue (a temporary folder for --dry-run) with the db's own time, so the
// restore's report shows its true age, and is verified before the restore uses it.
import { mkdir, mkdtemp, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupDir } from '../../config/etcd-vars.js';
import type { EtcdMember, Inventory } from '../../config/types.js';
import { RefusedError, UnreachableError } from '../../errors.js';
import type { ConnectionOptions } from '../../engine/connections.js';
import { ConnectionPool } from '../../engine/connections.js';
import { streamSnapshot } from '../../etcd/client.js';
import type { MemberDiagnosis } from '../../etcd/diagnose/member-state.js';
import { newRunId } from '../../etcd/restore/paths.js';
import { normalizeDataDir } from '../../etcd/restore/identity.js';
import { describeProblems, verifySnapshotFile } from '../../etcd/snapshot-file.js';

export interface RebuildSource {
  path: string;
  /** How it was taken. */
  how: 'snapshot' | 'db copy';
  /** A temporary folder to remove afterwards (dry-run). */
  scratch?: string;
}

export async function takeRebuildSource(
  inventory: Inventory,
  member: EtcdMember,
  diagnosis: MemberDiagnosis,
  connect: ConnectionOptions,
  dryRun: boolean,
): Promise<RebuildSource> {
  const scratch = dryRun ? await mkdtemp(join(tmpdir(), 'orchestrate-rescue-')) : undefined;
  const dir = scratch ?? join(backupDir(inventory), 'rescue');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = `rescue_${newRunId()}_rev${diagnosis.db?.revision ?? 0}_${member.name.replace(/[^A-Za-z0-9._-]/g, '_')}.db`;
  const path = join(dir, name);
  if (diagnosis.observation?.ok) {
    const streamed = await streamSnapshot(member, path, { verify: true });
    if (!streamed.ok)
      throw new RefusedError(
        `copying the db of ${member.name} failed, nothing was changed: ${streamed.error}`,
        'run recover again, or --from another member',
        'recover.source-failed',
      );
    await streamed.snapshot.commit(path);
    return { path, how: 'snapshot', ...(scratch ? { scratch } : {}) };
  }
  const pool = new ConnectionPool(inventory, connect);
  try {
    const transport = await pool.get(member.host);
    if (transport instanceof UnreachableError)
      throw new RefusedError(
        `cannot copy the db of ${member.name}: ${transport.message}`,
        'bring it back, or --from another member',
        'recover.source-failed',
      );
    // Where diagnosis read it: the data dir the member's configuration names.
    const dataDir = diagnosis.dataDirPath ?? normalizeDataDir(member.dataDir);
    await transport.download(`${dataDir}/member/snap/db`, path, { mode: 0o600, become: pool.specFor(member.host).become });
  } finally {
    await pool.closeAll();
  }
  if (diagnosis.db?.mtime) await utimes(path, diagnosis.db.mtime, diagnosis.db.mtime);
  const report = await verifySnapshotFile(path);
  if (!report.ok)
    throw new RefusedError(
      `the copy of ${member.name}'s db does not verify, nothing was changed: ${describeProblems(report)}`,
      'pick another member with --from, or --from snapshot',
      'recover.source-invalid',
    );
  return { path, how: 'db copy', ...(scratch ? { scratch } : {}) };
}
