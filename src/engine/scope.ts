// The variables a task sees on a host, lowest to highest: role defaults, inventory (host > groups), play vars,
// task vars, facts and registered results, extra vars; then the magic variables. Trusted values that are
// themselves templates (`cluster_dir: "{{ base_dir }}/x"`) are rendered when read; registered output never is.
import { dirname } from 'node:path';
import { implicitLocalhost } from '../config/host-pattern.js';
import type { Inventory, Vars } from '../config/types.js';
import { LazyTemplate } from '../template/lazy.js';
import type { FactStore } from './facts.js';

export type Scope = Record<string, unknown>;

/** What is fixed for a play (or one serial batch of it). */
export interface PlayScope {
  inventory: Inventory;
  playVars: Vars;
  extraVars: Vars;
  facts: FactStore;
  /** Hosts of the play still running (`ansible_play_hosts`). */
  playHosts: string[];
  /** Hosts of the current serial batch (`ansible_play_batch`). */
  batch: string[];
  /** Every host the play selected (`ansible_play_hosts_all`). */
  allPlayHosts: string[];
  checkMode: boolean;
  playbookFile: string;
}

export interface TaskScopeExtras {
  taskVars?: Vars;
  roleDefaults?: Vars;
  loopVar?: string;
  item?: unknown;
  /** Added last (the registered result while evaluating until/changed_when/failed_when). */
  overrides?: Vars;
}

export function buildScope(play: PlayScope, hostName: string, extras: TaskScopeExtras = {}): Scope {
  const host = play.inventory.hosts.get(hostName);
  const scope = Object.create(null) as Scope;
  addTrusted(scope, extras.roleDefaults);
  addTrusted(scope, (host ?? implicitLocalhost(play.inventory, hostName))?.vars);
  addTrusted(scope, play.playVars);
  addTrusted(scope, extras.taskVars);
  Object.assign(scope, play.facts.of(hostName));
  addTrusted(scope, play.extraVars);
  Object.assign(scope, magicVars(play, hostName));
  if (extras.loopVar !== undefined) {
    scope[extras.loopVar] = extras.item;
    scope.ansible_loop_var = extras.loopVar;
  }
  if (extras.overrides) Object.assign(scope, extras.overrides);
  return scope;

  function addTrusted(target: Scope, vars: Vars | undefined): void {
    if (!vars) return;
    const lazy = templatedNames(vars);
    for (const name of Object.keys(vars)) {
      target[name] = lazy.has(name) ? new LazyTemplate(vars[name], scope, name) : vars[name];
    }
  }
}

const magicCache = new WeakMap<PlayScope, { groups: Record<string, string[]>; hostvars: HostVars }>();

function magicVars(play: PlayScope, hostName: string): Scope {
  let shared = magicCache.get(play);
  if (!shared) {
    shared = { groups: Object.fromEntries(play.inventory.groups), hostvars: new HostVars(play) };
    magicCache.set(play, shared);
  }
  const host = play.inventory.hosts.get(hostName);
  return {
    inventory_hostname: hostName,
    inventory_hostname_short: hostName.split('.')[0],
    group_names: (host?.groups ?? []).filter((g) => g !== 'all' && g !== 'ungrouped'),
    groups: shared.groups,
    hostvars: shared.hostvars,
    play_hosts: play.playHosts,
    ansible_play_hosts: play.playHosts,
    ansible_play_batch: play.batch,
    ansible_play_hosts_all: play.allPlayHosts,
    ansible_check_mode: play.checkMode,
    playbook_dir: dirname(play.playbookFile),
    inventory_dir: play.inventory.dir,
    inventory_file: play.inventory.file,
  };
}

/**
 * `hostvars[name]`: every host's variables, built when read (a Map, which templates read through get/has),
 * rebuilt when facts change.
 */
export class HostVars extends Map<string, unknown> {
  private readonly cache = new Map<string, { version: number; scope: Scope }>();

  constructor(private readonly play: PlayScope) {
    super();
  }

  override has(name: string): boolean {
    return this.play.inventory.hosts.has(name);
  }

  override get(name: string): unknown {
    if (!this.has(name)) return undefined;
    const cached = this.cache.get(name);
    if (cached && cached.version === this.play.facts.version) return cached.scope;
    const scope = buildScope(this.play, name);
    this.cache.set(name, { version: this.play.facts.version, scope });
    return scope;
  }

  override keys(): MapIterator<string> {
    return this.play.inventory.hosts.keys();
  }

  override get size(): number {
    return this.play.inventory.hosts.size;
  }
}

const templatedCache = new WeakMap<object, Set<string>>();

/** Names whose values contain `{{` or `{%` anywhere (computed once per vars object). */
function templatedNames(vars: Vars): Set<string> {
  let names = templatedCache.get(vars);
  if (!names) {
    names = new Set(Object.keys(vars).filter((name) => containsTemplate(vars[name])));
    templatedCache.set(vars, names);
  }
  return names;
}

export function containsTemplate(value: unknown, depth = 0): boolean {
  if (depth > 50) return false;
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%');
  if (Array.isArray(value)) return value.some((v) => containsTemplate(v, depth + 1));
  if (value && typeof value === 'object' && !(value instanceof Map)) {
    return Object.values(value).some((v) => containsTemplate(v, depth + 1));
  }
  return false;
}
