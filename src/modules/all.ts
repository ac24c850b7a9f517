// Every module the engine knows. Adding a module is one line: a core module in core.ts, a pack here
// (import its list and spread it).
import { coreModules, type AnyModule } from './core.js';
import { backupModules } from './etcd/index.js';
import { recoverModules } from './recover/index.js';
import { restoreModules } from './restore/index.js';

export const allModules: AnyModule[] = [...coreModules, ...restoreModules, ...backupModules, ...recoverModules];
