// The core modules (Ansible's names). A playbook that uses only these loads nothing else, which keeps
// `orchestrate run` quick to start; all.ts adds the etcd, backup and restore modules.
import type { AnyModule } from './define.js';
import { assertModule } from './assert.js';
import { commandModule } from './command.js';
import { copyModule } from './copy.js';
import { debugModule } from './debug.js';
import { failModule } from './fail.js';
import { fetchModule } from './fetch.js';
import { fileModule } from './file.js';
import { pauseModule } from './pause.js';
import { serviceModule } from './service.js';
import { setFactModule } from './set-fact.js';
import { shellModule } from './shell.js';
import { statModule } from './stat.js';
import { waitForModule } from './wait-for.js';

export type { AnyModule } from './define.js';

export const coreModules: AnyModule[] = [
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
];
