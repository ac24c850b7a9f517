// The recover and member replace modules, for src/modules/all.ts.
import type { AnyModule } from '../define.js';
import { etcdDiagnoseModule } from './etcd-diagnose.js';
import { etcdMemberAddModule, etcdMemberPromoteModule, etcdMemberRemoveModule } from './member-ops.js';
import { dataSetAsideModule, etcdJoinModule } from './member-host.js';

export { etcdDiagnoseModule, etcdMemberAddModule, etcdMemberPromoteModule, etcdMemberRemoveModule, dataSetAsideModule, etcdJoinModule };

export const recoverModules: AnyModule[] = [
  etcdDiagnoseModule,
  etcdMemberRemoveModule,
  dataSetAsideModule,
  etcdMemberAddModule,
  etcdJoinModule,
  etcdMemberPromoteModule,
];
