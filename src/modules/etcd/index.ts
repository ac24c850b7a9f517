// The backup modules, for src/modules/all.ts.
import type { AnyModule } from '../define.js';
import { etcdMetricsModule } from './etcd-metrics.js';
import { etcdPruneModule } from './etcd-prune.js';
import { etcdRecordModule } from './etcd-record.js';
import { etcdRemoteCopyModule } from './etcd-remote-copy.js';
import { etcdRemotePruneModule } from './etcd-remote-prune.js';
import { etcdSnapshotModule } from './etcd-snapshot.js';
import { etcdSnapshotOnMemberModule } from './etcd-snapshot-on-member.js';
import { etcdStatusModule } from './etcd-status.js';
import { etcdVerifyModule } from './etcd-verify.js';

export {
  etcdMetricsModule,
  etcdPruneModule,
  etcdRecordModule,
  etcdRemoteCopyModule,
  etcdRemotePruneModule,
  etcdSnapshotModule,
  etcdSnapshotOnMemberModule,
  etcdStatusModule,
  etcdVerifyModule,
};

export const backupModules: AnyModule[] = [
  etcdStatusModule,
  etcdSnapshotModule,
  etcdSnapshotOnMemberModule,
  etcdVerifyModule,
  etcdRemoteCopyModule,
  etcdRecordModule,
  etcdMetricsModule,
  etcdPruneModule,
  etcdRemotePruneModule,
];
