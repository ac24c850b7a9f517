// Where each part of a loaded inventory came from, kept beside it so later checks can point at the file.
import type { Inventory } from './types.js';
import type { Origin } from './origin.js';

export class InventoryMeta {
  constructor(
    /** Host name to its first mention. */
    readonly hostOrigins: Map<string, Origin>,
    /** Host name to, per variable, the value that won precedence. */
    readonly varOrigins: Map<string, Map<string, Origin>>,
    /** Group name to its first definition. */
    readonly groupOrigins: Map<string, Origin>,
    /** The start of the inventory file: where problems about the inventory as a whole point. */
    readonly fileOrigin: Origin,
  ) {}
}

const metaByInventory = new WeakMap<Inventory, InventoryMeta>();

export function attachInventoryMeta(inventory: Inventory, meta: InventoryMeta): void {
  metaByInventory.set(inventory, meta);
}

/** Undefined for inventories built in code rather than loaded from a file. */
export function inventoryMeta(inventory: Inventory): InventoryMeta | undefined {
  return metaByInventory.get(inventory);
}
