// kubeadm's static pod manifests for a lab control-plane host, in the shape `kubeadm init` / `kubeadm join
// --control-plane` writes them: keys in alphabetical order (sigs.k8s.io/yaml), sequences not indented,
// flags sorted by name, hostPath volumes sorted by name.
//
// One deliberate deviation: every lab host shares one network namespace, so kubeadm's loopback listeners
// (--listen-client-urls https://127.0.0.1:2379, --listen-metrics-urls http://127.0.0.1:2381, the API server's
// --etcd-servers https://127.0.0.1:2379 and the probes on 127.0.0.1) would collide between hosts. Each host
// uses its own address there instead.
import { stringify } from 'yaml';
import type { LabEtcdVersion } from './etcd-versions.js';

export const manifestDir = '/etc/kubernetes/manifests';
export const kubeadmPkiDir = '/etc/kubernetes/pki';
export const kubeadmEtcdPkiDir = `${kubeadmPkiDir}/etcd`;
export const kubeadmEtcdDataDir = '/var/lib/etcd';
export const staticPodNames = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type StaticPodName = (typeof staticPodNames)[number];

export interface KubeadmMember {
  /** Node name, also the etcd member name. */
  name: string;
  address: string;
}

export interface ManifestInput {
  etcdVersion: LabEtcdVersion;
  self: KubeadmMember;
  /** Members up to and including this one: kubeadm's join shape (the first member alone is `init`). */
  initialCluster: readonly KubeadmMember[];
}

/** The Kubernetes release whose kubeadm wrote etcd of this version by default (for image tags and flags). */
function release(version: LabEtcdVersion): { kubernetes: string; etcdImage: string; registry: string } {
  return version === '3.4'
    ? { kubernetes: 'v1.21.14', etcdImage: '3.4.23-0', registry: 'k8s.gcr.io' }
    : { kubernetes: 'v1.31.4', etcdImage: '3.5.16-0', registry: 'registry.k8s.io' };
}

interface Volume {
  name: string;
  path: string;
  type: 'DirectoryOrCreate' | 'FileOrCreate';
  readOnly?: boolean;
}

function flags(command: string, values: Record<string, string>): string[] {
  return [command, ...Object.keys(values).sort().map((name) => `--${name}=${values[name] ?? ''}`)];
}

function probe(host: string, path: string, port: number, scheme: 'HTTP' | 'HTTPS', failureThreshold: number): Record<string, unknown> {
  return { failureThreshold, httpGet: { host, path, port, scheme }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15 };
}

function staticPod(
  name: StaticPodName,
  annotations: Record<string, string> | undefined,
  container: Record<string, unknown>,
  volumes: readonly Volume[],
  withSeccomp: boolean,
): string {
  const mounts = volumes.map((volume) => ({ mountPath: volume.path, name: volume.name, ...(volume.readOnly ? { readOnly: true } : {}) }));
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(annotations ? { annotations } : {}),
      creationTimestamp: null,
      labels: { component: name, tier: 'control-plane' },
      name,
      namespace: 'kube-system',
    },
    spec: {
      containers: [{ ...container, volumeMounts: mounts }],
      hostNetwork: true,
      priority: 2000001000,
      priorityClassName: 'system-node-critical',
      ...(withSeccomp ? { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } } : {}),
      volumes: [...volumes]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((volume) => ({ hostPath: { path: volume.path, type: volume.type }, name: volume.name })),
    },
    status: {},
  };
  return stringify(pod, { indentSeq: false, lineWidth: 0 });
}

export function etcdManifest(input: ManifestInput): string {
  const { self, etcdVersion } = input;
  const { registry, etcdImage } = release(etcdVersion);
  const joining = input.initialCluster.length > 1;
  const values: Record<string, string> = {
    'advertise-client-urls': `https://${self.address}:2379`,
    'cert-file': `${kubeadmEtcdPkiDir}/server.crt`,
    'client-cert-auth': 'true',
    'data-dir': kubeadmEtcdDataDir,
    'initial-advertise-peer-urls': `https://${self.address}:2380`,
    'initial-cluster': input.initialCluster.map((member) => `${member.name}=https://${member.address}:2380`).join(','),
    'key-file': `${kubeadmEtcdPkiDir}/server.key`,
    // kubeadm: https://127.0.0.1:2379,https://<address>:2379 and http://127.0.0.1:2381 (see the header).
    'listen-client-urls': `https://${self.address}:2379`,
    'listen-metrics-urls': `http://${self.address}:2381`,
    'listen-peer-urls': `https://${self.address}:2380`,
    name: self.name,
    'peer-cert-file': `${kubeadmEtcdPkiDir}/peer.crt`,
    'peer-client-cert-auth': 'true',
    'peer-key-file': `${kubeadmEtcdPkiDir}/peer.key`,
    'peer-trusted-ca-file': `${kubeadmEtcdPkiDir}/ca.crt`,
    'snapshot-count': '10000',
    'trusted-ca-file': `${kubeadmEtcdPkiDir}/ca.crt`,
  };
  if (joining) values['initial-cluster-state'] = 'existing';
  if (etcdVersion === '3.5') {
    values['experimental-initial-corrupt-check'] = 'true';
    values['experimental-watch-progress-notify-interval'] = '5s';
  }
  const health = etcdVersion === '3.5' ? '/health?exclude=NOSPACE&serializable=true' : '/health';
  const container = {
    command: flags('etcd', values),
    image: `${registry}/etcd:${etcdImage}`,
    imagePullPolicy: 'IfNotPresent',
    livenessProbe: probe(self.address, health, 2381, 'HTTP', 8),
    name: 'etcd',
    resources: { requests: { cpu: '100m', memory: '100Mi' } },
    startupProbe: probe(self.address, etcdVersion === '3.5' ? '/health?serializable=false' : '/health', 2381, 'HTTP', 24),
  };
  const volumes: Volume[] = [
    { name: 'etcd-data', path: kubeadmEtcdDataDir, type: 'DirectoryOrCreate' },
    { name: 'etcd-certs', path: kubeadmEtcdPkiDir, type: 'DirectoryOrCreate' },
  ];
  return staticPod('etcd', { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': `https://${self.address}:2379` }, container, volumes, etcdVersion === '3.5');
}

const caVolumes: Volume[] = [
  { name: 'ca-certs', path: '/etc/ssl/certs', type: 'DirectoryOrCreate', readOnly: true },
  { name: 'etc-ca-certificates', path: '/etc/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
  { name: 'k8s-certs', path: kubeadmPkiDir, type: 'DirectoryOrCreate', readOnly: true },
  { name: 'usr-local-share-ca-certificates', path: '/usr/local/share/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
  { name: 'usr-share-ca-certificates', path: '/usr/share/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
];

export function apiServerManifest(input: ManifestInput): string {
  const { self, etcdVersion } = input;
  const { registry, kubernetes } = release(etcdVersion);
  const values: Record<string, string> = {
    'advertise-address': self.address,
    'allow-privileged': 'true',
    'authorization-mode': 'Node,RBAC',
    'client-ca-file': `${kubeadmPkiDir}/ca.crt`,
    'enable-admission-plugins': 'NodeRestriction',
    'enable-bootstrap-token-auth': 'true',
    'etcd-cafile': `${kubeadmEtcdPkiDir}/ca.crt`,
    'etcd-certfile': `${kubeadmPkiDir}/apiserver-etcd-client.crt`,
    'etcd-keyfile': `${kubeadmPkiDir}/apiserver-etcd-client.key`,
    // kubeadm: https://127.0.0.1:2379 (see the header).
    'etcd-servers': `https://${self.address}:2379`,
    'kubelet-client-certificate': `${kubeadmPkiDir}/apiserver-kubelet-client.crt`,
    'kubelet-client-key': `${kubeadmPkiDir}/apiserver-kubelet-client.key`,
    'kubelet-preferred-address-types': 'InternalIP,ExternalIP,Hostname',
    'proxy-client-cert-file': `${kubeadmPkiDir}/front-proxy-client.crt`,
    'proxy-client-key-file': `${kubeadmPkiDir}/front-proxy-client.key`,
    'requestheader-allowed-names': 'front-proxy-client',
    'requestheader-client-ca-file': `${kubeadmPkiDir}/front-proxy-ca.crt`,
    'requestheader-extra-headers-prefix': 'X-Remote-Extra-',
    'requestheader-group-headers': 'X-Remote-Group',
    'requestheader-username-headers': 'X-Remote-User',
    'secure-port': '6443',
    'service-account-issuer': 'https://kubernetes.default.svc.cluster.local',
    'service-account-key-file': `${kubeadmPkiDir}/sa.pub`,
    'service-account-signing-key-file': `${kubeadmPkiDir}/sa.key`,
    'service-cluster-ip-range': '10.96.0.0/12',
    'tls-cert-file': `${kubeadmPkiDir}/apiserver.crt`,
    'tls-private-key-file': `${kubeadmPkiDir}/apiserver.key`,
  };
  const container = {
    command: flags('kube-apiserver', values),
    image: `${registry}/kube-apiserver:${kubernetes}`,
    imagePullPolicy: 'IfNotPresent',
    livenessProbe: probe(self.address, '/livez', 6443, 'HTTPS', 8),
    name: 'kube-apiserver',
    readinessProbe: { ...probe(self.address, '/readyz', 6443, 'HTTPS', 3), initialDelaySeconds: undefined, periodSeconds: 1 },
    resources: { requests: { cpu: '250m' } },
    startupProbe: probe(self.address, '/livez', 6443, 'HTTPS', 24),
  };
  return staticPod(
    'kube-apiserver',
    { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': `${self.address}:6443` },
    container,
    caVolumes,
    etcdVersion === '3.5',
  );
}

function componentManifest(name: 'kube-controller-manager' | 'kube-scheduler', input: ManifestInput): string {
  const { self, etcdVersion } = input;
  const { registry, kubernetes } = release(etcdVersion);
  const kubeconfig = name === 'kube-scheduler' ? '/etc/kubernetes/scheduler.conf' : '/etc/kubernetes/controller-manager.conf';
  const values: Record<string, string> =
    name === 'kube-scheduler'
      ? { 'authentication-kubeconfig': kubeconfig, 'authorization-kubeconfig': kubeconfig, 'bind-address': self.address, kubeconfig, 'leader-elect': 'true' }
      : {
          'authentication-kubeconfig': kubeconfig,
          'authorization-kubeconfig': kubeconfig,
          'bind-address': self.address,
          'client-ca-file': `${kubeadmPkiDir}/ca.crt`,
          'cluster-name': 'kubernetes',
          'cluster-signing-cert-file': `${kubeadmPkiDir}/ca.crt`,
          'cluster-signing-key-file': `${kubeadmPkiDir}/ca.key`,
          controllers: '*,bootstrapsigner,tokencleaner',
          kubeconfig,
          'leader-elect': 'true',
          'requestheader-client-ca-file': `${kubeadmPkiDir}/front-proxy-ca.crt`,
          'root-ca-file': `${kubeadmPkiDir}/ca.crt`,
          'service-account-private-key-file': `${kubeadmPkiDir}/sa.key`,
          'use-service-account-credentials': 'true',
        };
  const port = name === 'kube-scheduler' ? 10259 : 10257;
  const container = {
    command: flags(name, values),
    image: `${registry}/${name}:${kubernetes}`,
    imagePullPolicy: 'IfNotPresent',
    livenessProbe: probe(self.address, name === 'kube-scheduler' ? '/livez' : '/healthz', port, 'HTTPS', 8),
    name,
    resources: { requests: { cpu: name === 'kube-scheduler' ? '100m' : '200m' } },
    startupProbe: probe(self.address, name === 'kube-scheduler' ? '/livez' : '/healthz', port, 'HTTPS', 24),
  };
  const volumes: Volume[] =
    name === 'kube-scheduler'
      ? [{ name: 'kubeconfig', path: kubeconfig, type: 'FileOrCreate', readOnly: true }]
      : [...caVolumes, { name: 'kubeconfig', path: kubeconfig, type: 'FileOrCreate', readOnly: true }];
  return staticPod(name, undefined, container, volumes, etcdVersion === '3.5');
}

/** The four manifests of one control-plane host, by file name. */
export function kubeadmManifests(input: ManifestInput): Map<string, string> {
  return new Map([
    ['etcd.yaml', etcdManifest(input)],
    ['kube-apiserver.yaml', apiServerManifest(input)],
    ['kube-controller-manager.yaml', componentManifest('kube-controller-manager', input)],
    ['kube-scheduler.yaml', componentManifest('kube-scheduler', input)],
  ]);
}
