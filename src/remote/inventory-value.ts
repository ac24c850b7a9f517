// Reading a structured inventory variable (a mapping such as `backup_remote`) together with where it
// came from, so that a problem found inside it can be placed at file:line:col.
import { ETCD_GROUP } from '../config/etcd-vars.js';
import { inventoryMeta } from '../config/inventory-meta.js';
import type { Inventory } from '../config/types.js';
import type { YamlPath } from '../config/yaml-source.js';

export interface InventoryValue {
  value: unknown;
  /** Path of the value in the inventory file, when the inventory was loaded from one. */
  path?: YamlPath;
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
    const path = meta?.varPaths.get(host.name)?.get(name);
    return path ? { value: host.vars[name], path } : { value: host.vars[name] };
  }
  const fromAll = inventory.groupVars?.get('all')?.[name];
  if (fromAll === undefined) return undefined;
  const groupPath = meta?.groupPaths.get('all');
  return groupPath ? { value: fromAll, path: [...groupPath, 'vars', name] } : { value: fromAll };
}
