// The catalog of every module (all.ts), for the commands and the playbook loader; the engine starts with
// the core catalog when a playbook needs nothing more (see core-catalog.ts).
import { allModules } from './all.js';
import { createRegistry, type ModuleRegistry } from './create-registry.js';

export { createRegistry, type ModuleCatalogView, type ModuleInfo, type ModuleRegistry } from './create-registry.js';

/** The catalog holding every module in all.ts. */
export const moduleCatalog: ModuleRegistry = createRegistry(allModules);
