// Retention in each place under the same rules (src/etcd/backup/retention.ts decides): only verified copies
// count, unverified ones are never deleted automatically, and the newest verified copy in each place is
// never deleted. A snapshot may be kept in one place and go from the other.
import { planRetention, type RetentionEntry, type RetentionPlan, type RetentionPolicy } from '../etcd/backup/retention.js';
import type { LocalCopy } from './places.js';
import type { RemoteCopyRecord } from './remote-catalog.js';

export interface LocalEntry extends RetentionEntry {
  copy: LocalCopy;
}

export interface RemoteEntry extends RetentionEntry {
  copy: RemoteCopyRecord;
}

export interface PlacesRetentionPlan {
  local: RetentionPlan<LocalEntry>;
  remote: RetentionPlan<RemoteEntry>;
}

export function planRemoteRetention(copies: readonly RemoteCopyRecord[], policy: RetentionPolicy, now: number): RetentionPlan<RemoteEntry> {
  return planRetention(
    copies.map((copy) => ({ name: copy.key, takenAt: Date.parse(copy.takenAt), verified: copy.verified, copy })),
    policy,
    now,
  );
}

/** Both places: `remotePolicy` undefined means the same policy as the local one. */
export function planPlacesRetention(
  local: readonly LocalCopy[],
  remote: readonly RemoteCopyRecord[],
  policies: { local: RetentionPolicy; remote?: RetentionPolicy },
  now: number,
): PlacesRetentionPlan {
  return {
    local: planRetention(
      local.map((copy) => ({ name: copy.name, takenAt: copy.takenAt, verified: copy.status === 'ok', copy })),
      policies.local,
      now,
    ),
    remote: planRemoteRetention(remote, policies.remote ?? policies.local, now),
  };
}
