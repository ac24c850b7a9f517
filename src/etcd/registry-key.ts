// What a key in a Kubernetes etcd names: `/registry/<resource>/<namespace>/<name>` for namespaced objects,
// `/registry/<resource>/<name>` for cluster-scoped ones, with an API group segment first for most
// non-core resources (`/registry/apiregistration.k8s.io/apiservices/v1.apps`) and two-part names for
// services (`/registry/services/specs/...`, `/registry/services/endpoints/...`). Object names cannot
// contain '/', so the number of segments tells namespaced from cluster-scoped.

export interface RegistryKey {
  /** `pods`, `services/specs`, `apiregistration.k8s.io/apiservices`; for keys outside the registry
   *  prefix, their first path segment (or `(other)`). */
  resource: string;
  namespace?: string;
  name?: string;
  /** The folder the key is in: `/registry/pods/default/` or `/registry/rogue/`. */
  prefix: string;
  /** Under the registry prefix (a Kubernetes object) or not. */
  kubernetes: boolean;
}

export const DEFAULT_REGISTRY_PREFIX = '/registry/';

const TWO_PART = new Set(['services']);

/** Splits a key (a latin1 or UTF-8 string) into resource, namespace and name. */
export function parseRegistryKey(key: string, registryPrefix = DEFAULT_REGISTRY_PREFIX): RegistryKey {
  if (!key.startsWith(registryPrefix)) {
    const match = /^(\/?[^/]+\/)/.exec(key);
    const first = match?.[1];
    if (!first || first === key) return { resource: '(other)', prefix: '', kubernetes: false };
    return { resource: first.replace(/^\/|\/$/g, ''), prefix: first, kubernetes: false, name: key.slice(first.length) };
  }
  const segments = key.slice(registryPrefix.length).split('/');
  const [first = '', second] = segments;
  let resourceParts = 1;
  if (
    second !== undefined &&
    segments.length >= 3 &&
    (first.includes('.') || (TWO_PART.has(first) && (second === 'specs' || second === 'endpoints')))
  )
    resourceParts = 2;
  const resource = segments.slice(0, resourceParts).join('/');
  const rest = segments.slice(resourceParts);
  const base = `${registryPrefix}${resource}/`;
  if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) return { resource, prefix: base, kubernetes: true };
  if (rest.length === 1) return { resource, name: rest[0] ?? '', prefix: base, kubernetes: true };
  const [namespace = '', ...name] = rest;
  return { resource, namespace, name: name.join('/'), prefix: `${base}${namespace}/`, kubernetes: true };
}

/** Singular words for the resources a person knows, for "1 pod" rather than "1 pods". */
const SINGULAR: Record<string, string> = {
  pods: 'pod',
  deployments: 'deployment',
  replicasets: 'replicaset',
  statefulsets: 'statefulset',
  daemonsets: 'daemonset',
  jobs: 'job',
  cronjobs: 'cronjob',
  'services/specs': 'service',
  'services/endpoints': 'endpoints object',
  configmaps: 'configmap',
  secrets: 'secret',
  serviceaccounts: 'serviceaccount',
  namespaces: 'namespace',
  minions: 'node',
  events: 'event',
  leases: 'lease',
  persistentvolumes: 'persistentvolume',
  persistentvolumeclaims: 'persistentvolumeclaim',
  roles: 'role',
  rolebindings: 'rolebinding',
  clusterroles: 'clusterrole',
  clusterrolebindings: 'clusterrolebinding',
  ingress: 'ingress',
  endpointslices: 'endpointslice',
  horizontalpodautoscalers: 'horizontalpodautoscaler',
  poddisruptionbudgets: 'poddisruptionbudget',
  priorityclasses: 'priorityclass',
  storageclasses: 'storageclass',
  controllerrevisions: 'controllerrevision',
};

const PLURAL: Record<string, string> = {
  'services/specs': 'services',
  'services/endpoints': 'endpoints objects',
  minions: 'nodes',
};

/** `25 pods`, `1 pod`, `3 nodes`; undefined for a resource we have no words for. */
export function countedResource(resource: string, count: number): string | undefined {
  const singular = SINGULAR[resource];
  if (!singular) return undefined;
  return `${count} ${count === 1 ? singular : (PLURAL[resource] ?? resource)}`;
}
