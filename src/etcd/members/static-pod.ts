// kubeadm's static pod manifest for etcd (/etc/kubernetes/manifests/etcd.yaml): the container's command
// and the hostPath volumes behind its paths. `--data-dir=/var/lib/etcd` names a path inside the container;
// what a restore moves is the host path the `etcd-data` volume maps it to.
import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface Mount {
  mountPath: string;
  hostPath: string;
}

export interface EtcdPod {
  /** The container's command followed by its args. */
  argv: string[];
  mounts: Mount[];
  /** The container's `env` with literal values (kubeadm's `etcd.local.extraEnvs`). */
  env: Record<string, string>;
  /** Variables whose value comes from elsewhere (`valueFrom`), and `envFrom` sources: not known here. */
  unknownEnv: string[];
}

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** The etcd container of the manifest, or why there is none. */
export function readEtcdPod(text: string): EtcdPod | { problem: string } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    return { problem: `the manifest is not YAML: ${error instanceof Error ? error.message : String(error)}` };
  }
  const spec = isObj(doc) && isObj(doc.spec) ? doc.spec : undefined;
  const containers = spec && Array.isArray(spec.containers) ? spec.containers.filter(isObj) : [];
  const container = containers.find((c) => c.name === 'etcd') ?? containers[0];
  if (!container) return { problem: 'the manifest has no container' };
  const argv = [...strings(container.command), ...strings(container.args)];
  if (argv.length === 0) return { problem: 'the etcd container has no command' };
  const volumes = new Map<string, string>();
  for (const volume of spec && Array.isArray(spec.volumes) ? spec.volumes.filter(isObj) : []) {
    if (typeof volume.name === 'string' && isObj(volume.hostPath) && typeof volume.hostPath.path === 'string')
      volumes.set(volume.name, volume.hostPath.path);
  }
  const mounts: Mount[] = [];
  for (const mount of Array.isArray(container.volumeMounts) ? container.volumeMounts.filter(isObj) : []) {
    const hostPath = typeof mount.name === 'string' ? volumes.get(mount.name) : undefined;
    if (hostPath !== undefined && typeof mount.mountPath === 'string') mounts.push({ mountPath: mount.mountPath, hostPath });
  }
  return { argv, mounts, ...containerEnv(container) };
}

function containerEnv(container: Obj): { env: Record<string, string>; unknownEnv: string[] } {
  const env: Record<string, string> = {};
  const unknownEnv: string[] = [];
  for (const item of Array.isArray(container.env) ? container.env.filter(isObj) : []) {
    if (typeof item.name !== 'string') continue;
    if (item.valueFrom !== undefined) unknownEnv.push(item.name);
    else env[item.name] = typeof item.value === 'string' ? item.value : '';
  }
  if (Array.isArray(container.envFrom) && container.envFrom.length > 0) unknownEnv.push('envFrom');
  return { env, unknownEnv };
}

/** Where a path inside the container lives on the host (the longest matching mount), or undefined if on no volume. */
export function hostPathOf(pod: EtcdPod, containerPath: string): string | undefined {
  const path = posix.normalize(containerPath);
  let best: Mount | undefined;
  for (const mount of pod.mounts) {
    const base = posix.normalize(mount.mountPath).replace(/\/+$/, '') || '/';
    const inside = path === base || path.startsWith(base === '/' ? '/' : `${base}/`);
    if (inside && (!best || base.length > posix.normalize(best.mountPath).length)) best = mount;
  }
  if (!best) return undefined;
  const base = posix.normalize(best.mountPath).replace(/\/+$/, '');
  return posix.join(best.hostPath, path.slice(base.length));
}
