// A kubeasz-style host: etcd (members) and the Kubernetes components as systemd units, run by the lab's
// stand-in systemctl; the components are stand-ins (long-lived do-nothing processes).
import type { HostFilesInput } from './host-files.js';
import { etcdServiceName, etcdUnit, initialCluster, kubeBinDir, kubeNodeServices, kubeServices, kubeStandInProgram, kubeStandInUnit } from './units.js';
import { writeUpperFile } from './upper-files.js';

const unitDir = '/etc/systemd/system';

export async function writeKubeaszHostFiles(input: HostFilesInput): Promise<void> {
  const { paths, host, planned } = input;
  const upper = host.upperDir;
  const member = planned.role === 'member';
  if (member) {
    const unit = etcdUnit({
      name: planned.name,
      address: host.address,
      initialCluster: initialCluster(input.all.filter((other) => other.role === 'member')),
      etcdPath: input.etcd.unitEtcdPath,
      caFile: paths.caFile,
      certFile: paths.certFile,
      keyFile: paths.certKeyFile,
    });
    await writeUpperFile(upper, `${unitDir}/${etcdServiceName}.service`, unit, { mode: 0o644 });
  }
  // kube_node-only hosts run kubelet and kube-proxy; members all five components.
  for (const service of member ? kubeServices : kubeNodeServices) {
    await writeUpperFile(upper, `${unitDir}/${service}.service`, kubeStandInUnit(service), { mode: 0o644 });
    await writeUpperFile(upper, `${kubeBinDir}/${service}`, kubeStandInProgram(service), { mode: 0o755 });
  }
}
