// Where each part of a loaded inventory came from, kept beside it so later checks can point at the file.
import type { SourceLocation } from '../errors.js';
import type { Inventory } from './types.js';
import { lineTextAt, locate, type YamlPath, type YamlSource } from './yaml-source.js';

export class InventoryMeta {
  constructor(
    readonly source: YamlSource,
    /** Host name to the path of its first mention (a key under some `hosts:`). */
    readonly hostPaths: Map<string, YamlPath>,
    /** Host name to, per variable, the path of the value that won precedence. */
    readonly varPaths: Map<string, Map<string, YamlPath>>,
    /** Group name to the path of its first definition. */
    readonly groupPaths: Map<string, YamlPath>,
  ) {}

  groupLocation(group: string): SourceLocation | undefined {
    const groupPath = this.groupPaths.get(group);
    return groupPath ? locate(this.source, groupPath, 'key') : undefined;
  }

  lineText(line: number): string {
    return lineTextAt(this.source, line);
  }
}

const metaByInventory = new WeakMap<Inventory, InventoryMeta>();

export function attachInventoryMeta(inventory: Inventory, meta: InventoryMeta): void {
  metaByInventory.set(inventory, meta);
}

/** Undefined for inventories built in code rather than loaded from a file. */
export function inventoryMeta(inventory: Inventory): InventoryMeta | undefined {
  return metaByInventory.get(inventory);
}
