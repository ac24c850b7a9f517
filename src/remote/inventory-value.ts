// Reading a structured inventory variable (a mapping such as `backup_remote`) together with where it
// came from, so that a problem found inside it can be placed at file:line:col.
import { ETCD_GROUP } from '../config/etcd-vars.js';
import { inventoryMeta } from '../config/inventory-meta.js';
import { yamlOrigin, type Origin } from '../config/origin.js';
import type { Inventory } from '../config/types.js';

export interface InventoryValue {
  value: unknown;
  /** Where the value was written, when the inventory was loaded from a file. */
  origin?: Origin;
}

/**
 * The value a command reads for `name`: the first etcd member's (which sees `all` and `etcd` group
 * vars after Ansible's precedence), else group `all`'s own vars; undefined when it is not set.
 */
export function inventoryValue(inventory: Inventory, name: string): InventoryValue | undefined {
  const meta = inventoryMeta(inventory);
  const first = inventory.groups.get(ETCD_GROUP)?.[0];
  const host = first === undefined ? undefined : inventory.hosts.get(first);
  if (host && host.vars[name] !== undefined) {
    const origin = meta?.varOrigins.get(host.name)?.get(name);
    return origin ? { value: host.vars[name], origin } : { value: host.vars[name] };
  }
  const fromAll = inventory.groupVars?.get('all')?.[name];
  if (fromAll === undefined) return undefined;
  const group = meta?.groupOrigins.get('all');
  if (!group) return { value: fromAll };
  // In YAML the value sits at all.vars.<name>; an INI [all:vars] section is pointed at as a whole.
  return { value: fromAll, origin: group.kind === 'yaml' ? yamlOrigin(group.source, [...group.path, 'vars', name]) : group };
}
