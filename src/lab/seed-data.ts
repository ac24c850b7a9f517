// Kubernetes-like keys under /registry, so a demo has data to lose and to get back. Values are JSON
// (the API server can store JSON as well as protobuf); what matters here is that they are real keys.
import { randomUUID } from 'node:crypto';
import { etcdctl, clientUrl, type EtcdClientFiles } from './etcdctl.js';
import { LabError } from './lab-error.js';

export const seededPodCount = 25;

function object(kind: string, name: string, namespace: string | undefined, extra: Record<string, unknown> = {}): string {
  const metadata: Record<string, unknown> = { name, uid: randomUUID(), creationTimestamp: new Date().toISOString() };
  if (namespace) metadata.namespace = namespace;
  return JSON.stringify({ kind, apiVersion: kind === 'Deployment' || kind === 'ReplicaSet' ? 'apps/v1' : 'v1', metadata, ...extra });
}

/** The keys `lab up` writes, with their values (about 50 for three members). */
export function labSeedKeys(addresses: readonly string[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const namespace of ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'shop']) {
    keys.set(`/registry/namespaces/${namespace}`, object('Namespace', namespace, undefined, { status: { phase: 'Active' } }));
  }
  for (let index = 1; index <= seededPodCount; index += 1) {
    const node = addresses[(index - 1) % addresses.length] ?? addresses[0];
    keys.set(
      `/registry/pods/default/web-${index}`,
      object('Pod', `web-${index}`, 'default', { spec: { nodeName: node, containers: [{ name: 'web', image: 'nginx:1.27' }] }, status: { phase: 'Running' } }),
    );
  }
  keys.set('/registry/deployments/default/web', object('Deployment', 'web', 'default', { spec: { replicas: seededPodCount } }));
  keys.set('/registry/replicasets/default/web-7c5d9f8b6d', object('ReplicaSet', 'web-7c5d9f8b6d', 'default'));
  keys.set('/registry/services/specs/default/kubernetes', object('Service', 'kubernetes', 'default', { spec: { clusterIP: '10.68.0.1' } }));
  keys.set('/registry/services/specs/default/web', object('Service', 'web', 'default', { spec: { clusterIP: '10.68.0.80' } }));
  keys.set('/registry/configmaps/default/app-config', object('ConfigMap', 'app-config', 'default', { data: { LOG_LEVEL: 'info' } }));
  keys.set('/registry/configmaps/default/feature-flags', object('ConfigMap', 'feature-flags', 'default', { data: { checkout: 'on' } }));
  keys.set('/registry/configmaps/kube-system/coredns', object('ConfigMap', 'coredns', 'kube-system', { data: { Corefile: '.:53 { forward . /etc/resolv.conf }' } }));
  keys.set('/registry/configmaps/kube-system/kube-proxy', object('ConfigMap', 'kube-proxy', 'kube-system', { data: { mode: 'ipvs' } }));
  // Lab-only fake credentials: the point is to prove secrets come back after a restore.
  keys.set('/registry/secrets/default/db-password', object('Secret', 'db-password', 'default', { type: 'Opaque', data: { password: 'bGFiLW9ubHk=' } }));
  keys.set('/registry/secrets/default/api-token', object('Secret', 'api-token', 'default', { type: 'Opaque', data: { token: 'bGFiLXRva2Vu' } }));
  keys.set('/registry/secrets/kube-system/bootstrap-token-abcdef', object('Secret', 'bootstrap-token-abcdef', 'kube-system', { type: 'bootstrap.kubernetes.io/token' }));
  keys.set('/registry/serviceaccounts/default/default', object('ServiceAccount', 'default', 'default'));
  keys.set('/registry/serviceaccounts/kube-system/default', object('ServiceAccount', 'default', 'kube-system'));
  keys.set('/registry/pods/kube-system/coredns-5d78c9869d-1', object('Pod', 'coredns-5d78c9869d-1', 'kube-system'));
  keys.set('/registry/pods/kube-system/coredns-5d78c9869d-2', object('Pod', 'coredns-5d78c9869d-2', 'kube-system'));
  for (const address of addresses) {
    keys.set(`/registry/minions/${address}`, object('Node', address, undefined, { status: { addresses: [{ type: 'InternalIP', address }] } }));
    keys.set(`/registry/pods/kube-system/kube-proxy-${address}`, object('Pod', `kube-proxy-${address}`, 'kube-system', { spec: { nodeName: address } }));
  }
  return keys;
}

/** etcd refuses a transaction of more than 128 operations (--max-txn-ops): larger seeds go in chunks. */
const putsPerTransaction = 100;

/** Writes the keys in transactions (etcdctl txn reads `put key "value"` lines; values are Go-quoted). */
export async function seedLabData(files: EtcdClientFiles, address: string, keys: ReadonlyMap<string, string>): Promise<void> {
  const puts = [...keys].map(([key, value]) => `put ${key} ${JSON.stringify(value)}`);
  for (let start = 0; start < puts.length; start += putsPerTransaction) {
    const input = `\n${puts.slice(start, start + putsPerTransaction).join('\n')}\n\n\n`;
    const result = await etcdctl(files, [clientUrl(address)], ['txn'], { input, timeoutMs: 15_000 });
    if (result.code !== 0 || !result.stdout.startsWith('SUCCESS')) {
      throw new LabError(`seeding /registry keys through ${address} failed: ${(result.stderr || result.stdout).trim()}`);
    }
  }
}
