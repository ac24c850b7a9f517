// The catalog of the core modules alone: what `orchestrate run` loads for playbooks that use only those.
import { coreModules } from './core.js';
import { createRegistry, type ModuleRegistry } from './create-registry.js';

export const coreCatalog: ModuleRegistry = createRegistry(coreModules);
