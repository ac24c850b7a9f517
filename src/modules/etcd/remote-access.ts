// The remote store of a backup run (backup_remote), opened once per run and shared by the modules that
// need it (etcd.remote-copy, etcd.remote-prune). `orchestrate backup` opens it before any host is touched,
// so that missing credentials end the command (exit 2) with nothing done; a playbook run through
// `orchestrate run` opens it at the first task that needs it.
import { backupLocations } from '../../etcd/backup/locations.js';
import { openRemoteBackups, type RemoteBackups } from '../../remote/remote-backups.js';
import type { ModuleContext } from '../define.js';
import { stateKey, type RunState } from '../run-state.js';

interface RemoteSlot {
  opening?: Promise<RemoteBackups | undefined>;
}

const remoteBackupsKey = stateKey<RemoteSlot>('remote-backups', () => ({}));

/** The command hands the remote it opened (undefined: the inventory has no backup_remote) to the run. */
export function provideRemoteBackups(state: RunState, remote: RemoteBackups | undefined): void {
  state.get(remoteBackupsKey).opening = Promise.resolve(remote);
}

/** The run's remote, opened on first use when the command did not; undefined without backup_remote. */
export function remoteBackupsFor(ctx: Pick<ModuleContext, 'state' | 'inventory'>): Promise<RemoteBackups | undefined> {
  const slot = ctx.state.get(remoteBackupsKey);
  slot.opening ??= openRemoteBackups(ctx.inventory, backupLocations(ctx.inventory));
  return slot.opening;
}
