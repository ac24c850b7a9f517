// Every module the engine knows. Adding a module is one line here (etcd modules: import their list and spread it).
import type { ModuleDefinition } from './define.js';
import { assertModule } from './assert.js';
import { commandModule } from './command.js';
import { copyModule } from './copy.js';
import { debugModule } from './debug.js';
import { failModule } from './fail.js';
import { fetchModule } from './fetch.js';
import { fileModule } from './file.js';
import { pauseModule } from './pause.js';
import { restoreModules } from './restore/index.js';
import { serviceModule } from './service.js';
import { setFactModule } from './set-fact.js';
import { shellModule } from './shell.js';
import { statModule } from './stat.js';
import { waitForModule } from './wait-for.js';
import { backupModules } from './etcd/index.js';

// Each module declares its own argument type; the registry only sees the common shape.
type AnyModule = ModuleDefinition<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const allModules: AnyModule[] = [
  commandModule,
  shellModule,
  serviceModule,
  fileModule,
  copyModule,
  fetchModule,
  setFactModule,
  debugModule,
  assertModule,
  waitForModule,
  failModule,
  statModule,
  pauseModule,
  ...restoreModules,
  ...backupModules,
];
