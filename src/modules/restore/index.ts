// The restore modules, for src/modules/all.ts and for the restore command's plan.
import type { AnyModule } from '../define.js';
import { dataMoveAsideModule, dataMoveBackModule } from './data-move.js';
import { etcdPreflightModule } from './etcd-preflight.js';
import { etcdRestoreModule } from './etcd-restore.js';
import { etcdRestoreOnDeployHostModule } from './etcd-restore-on-deploy-host.js';
import { etcdSnapshotCopyModule } from './etcd-snapshot-copy.js';
import { etcdVerifyClusterModule } from './etcd-verify-cluster.js';
import { etcdIdentitiesModule } from './identities.js';
import { loginAccessModule } from './login-access.js';
import { etcdMemberConfigModule } from './member-config.js';
import { etcdServiceModule, kubeServicesModule } from './services.js';

export {
  dataMoveAsideModule,
  dataMoveBackModule,
  etcdPreflightModule,
  etcdRestoreModule,
  loginAccessModule,
  etcdRestoreOnDeployHostModule,
  etcdServiceModule,
  etcdSnapshotCopyModule,
  etcdVerifyClusterModule,
  kubeServicesModule,
};

export const restoreModules: AnyModule[] = [
  loginAccessModule,
  etcdMemberConfigModule,
  etcdIdentitiesModule,
  etcdPreflightModule,
  etcdSnapshotCopyModule,
  etcdRestoreModule,
  etcdRestoreOnDeployHostModule,
  kubeServicesModule,
  etcdServiceModule,
  dataMoveAsideModule,
  dataMoveBackModule,
  etcdVerifyClusterModule,
];
