// Unit files and stand-in programs installed in every lab host. The etcd unit follows kubeasz's template;
// the Kubernetes services are stand-ins (long-lived do-nothing processes) so playbooks can stop and start them.

export const etcdServiceName = 'etcd';
export const kubeMasterServices = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export const kubeNodeServices = ['kubelet', 'kube-proxy'] as const;
export const kubeServices = [...kubeMasterServices, ...kubeNodeServices] as const;
export const etcdDataDir = '/var/lib/etcd';
export const etcdClusterToken = 'etcd-cluster-0';
/** Where kubeasz installs binaries; the stand-ins live there too. */
export const kubeBinDir = '/opt/kube/bin';

export interface EtcdUnitInput {
  name: string;
  address: string;
  /** `etcd-<address>=https://<address>:2380`, comma-joined, every member. */
  initialCluster: string;
  /** /usr/bin/etcd (Debian's 3.4) or /usr/local/bin/etcd (3.5). */
  etcdPath: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export function initialCluster(members: readonly { name: string; address: string }[]): string {
  return members.map((member) => `${member.name}=https://${member.address}:2380`).join(',');
}

/** Listens only on the member's own address: every lab host shares one network namespace. */
export function etcdUnit(input: EtcdUnitInput): string {
  return `[Unit]
Description=Etcd Server
After=network.target
After=network-online.target
Wants=network-online.target
Documentation=https://github.com/coreos

[Service]
Type=notify
WorkingDirectory=${etcdDataDir}
ExecStart=${input.etcdPath} \\
  --name=${input.name} \\
  --cert-file=${input.certFile} \\
  --key-file=${input.keyFile} \\
  --peer-cert-file=${input.certFile} \\
  --peer-key-file=${input.keyFile} \\
  --trusted-ca-file=${input.caFile} \\
  --peer-trusted-ca-file=${input.caFile} \\
  --client-cert-auth \\
  --peer-client-cert-auth \\
  --initial-advertise-peer-urls=https://${input.address}:2380 \\
  --listen-peer-urls=https://${input.address}:2380 \\
  --listen-client-urls=https://${input.address}:2379 \\
  --advertise-client-urls=https://${input.address}:2379 \\
  --initial-cluster-token=${etcdClusterToken} \\
  --initial-cluster=${input.initialCluster} \\
  --initial-cluster-state=new \\
  --data-dir=${etcdDataDir} \\
  --snapshot-count=50000 \\
  --quota-backend-bytes=8589934592
Restart=always
RestartSec=15
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}

const descriptions: Record<(typeof kubeServices)[number], string> = {
  'kube-apiserver': 'Kubernetes API Server',
  'kube-controller-manager': 'Kubernetes Controller Manager',
  'kube-scheduler': 'Kubernetes Scheduler',
  kubelet: 'Kubernetes Kubelet',
  'kube-proxy': 'Kubernetes Kube-Proxy Server',
};

export function kubeStandInUnit(service: (typeof kubeServices)[number]): string {
  return `[Unit]
Description=${descriptions[service]} (orchestrate lab stand-in)
After=network.target

[Service]
ExecStart=${kubeBinDir}/${service} --lab-stand-in
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}

/** The program a stand-in unit runs: its argv shows the service name (`/bin/sh /opt/kube/bin/kube-apiserver`). */
export function kubeStandInProgram(service: (typeof kubeServices)[number]): string {
  return `#!/bin/sh
# orchestrate lab TEST FIXTURE: a stand-in for ${service}. It does nothing but stay alive until stopped.
trap 'exit 0' TERM INT HUP
while :; do
  sleep 2147483647 &
  wait $!
done
`;
}
