// The loaded, validated shapes of inventories and playbooks. Produced by src/config, read by everything above it.
import type { ConfigProblem, SourceLocation } from '../errors.js';

export type Vars = Record<string, unknown>;

export interface InventoryHost {
  /** The inventory hostname (kubeasz uses the IP address). */
  name: string;
  /** Every variable of the host after Ansible's precedence (host > child group > parent group > all). */
  vars: Vars;
  /** Groups the host belongs to, directly or through children, `all` included. */
  groups: string[];
  loc?: SourceLocation;
}

/** How to reach a host over SSH, from Ansible's connection variables. */
export interface ConnectionSpec {
  host: string;
  /** `ansible_host`, else the inventory name: the name ssh is given, which ~/.ssh/config's Host lines match. */
  address: string;
  port: number;
  user: string;
  /**
   * Which of `port` and `user` are defaults rather than inventory values: ~/.ssh/config may set those
   * (Ansible passes ssh only what the inventory sets). Absent: both are the inventory's.
   */
  defaulted?: ('port' | 'user')[];
  /** Jump hosts in ProxyJump syntax (`[user@]host[:port],...` or `none`), from ssh_jump_hosts or the ssh args variables. */
  proxyJump?: string;
  /** `ansible_ssh_private_key_file`, `~` expanded. */
  privateKeyFile?: string;
  /** `ansible_connection: local` runs on the deploy host. */
  local: boolean;
  /** `ansible_become` / task `become`. */
  become: boolean;
}

/** One etcd member with the kubeasz defaults applied. */
export interface EtcdMember {
  host: string;
  name: string;
  address: string;
  peerUrl: string;
  clientUrl: string;
  dataDir: string;
  token: string;
  /** TLS files on the deploy host (the etcd client's) and, unless `onMember` says otherwise, on the member. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** The same files as the member sees them, where they live elsewhere there (kubeasz: `{{ ca_dir }}`). */
  onMember?: { caFile?: string; certFile?: string; keyFile?: string };
  service: string;
}

export interface Inventory {
  file: string;
  /** Folder of the inventory file; relative paths in it resolve against this. */
  dir: string;
  hosts: Map<string, InventoryHost>;
  /** Group name to its host names (children flattened), including `all` and `ungrouped`, in file order. */
  groups: Map<string, string[]>;
  /** Each group's own `vars:` as written (not merged); `all` holds what the implicit localhost sees. */
  groupVars?: Map<string, Vars>;
}

export type WhenExpression = string;

export interface Task {
  name?: string;
  /** Canonical module id (after aliases such as `ansible.builtin.shell` -> `shell`). */
  module: string;
  /** Module arguments before templating; free-form strings arrive as `{ _raw: '...' }`. */
  args: unknown;
  vars?: Vars;
  when?: WhenExpression[];
  register?: string;
  /** `loop` or `with_items`, before templating. */
  loop?: unknown;
  loopVar?: string;
  until?: WhenExpression;
  retries?: number;
  delay?: number;
  ignoreErrors?: boolean;
  runOnce?: boolean;
  delegateTo?: string;
  become?: boolean;
  changedWhen?: WhenExpression[];
  failedWhen?: WhenExpression[];
  tags?: string[];
  /** Variables of the role the task came from (role defaults), lowest precedence. */
  roleDefaults?: Vars;
  role?: string;
  loc: SourceLocation;
}

export interface Play {
  name?: string;
  /** Host pattern: group or host names joined by `:` (union) or `,`. */
  hosts: string;
  gatherFacts: boolean;
  vars: Vars;
  serial?: number | string;
  become?: boolean;
  tasks: Task[];
  loc: SourceLocation;
}

export interface Playbook {
  file: string;
  plays: Play[];
  /** Problems that do not stop loading (e.g. YAML 1.1 base-60 numbers); print them with formatProblems. */
  warnings?: ConfigProblem[];
}
