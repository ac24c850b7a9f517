// A small stand-in for the engine's module registry: enough modules, with Ansible-like schemas, to test loading.
import type { ModuleCatalog, ModuleCatalogEntry } from '../../../src/config/module-catalog.js';

const boolish = { anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['yes', 'no', 'true', 'false'] }] };

const entries: ModuleCatalogEntry[] = [
  {
    id: 'shell',
    freeForm: 'cmd',
    schema: { type: 'object', properties: { cmd: { type: 'string' }, chdir: { type: 'string' } }, required: ['cmd'], additionalProperties: false },
  },
  {
    id: 'command',
    freeForm: 'cmd',
    schema: { type: 'object', properties: { cmd: { type: 'string' }, chdir: { type: 'string' } }, required: ['cmd'], additionalProperties: false },
  },
  { id: 'debug', freeForm: 'msg', schema: { type: 'object', properties: { msg: {}, var: { type: 'string' } }, additionalProperties: false } },
  {
    id: 'service',
    schema: {
      type: 'object',
      properties: { name: { type: 'string' }, state: { enum: ['started', 'stopped', 'restarted'] }, enabled: boolish },
      required: ['name'],
      additionalProperties: false,
    },
  },
  {
    id: 'file',
    schema: {
      type: 'object',
      properties: {
        path: { type: 'string' },
        name: { type: 'string' },
        state: { enum: ['directory', 'absent', 'touch', 'file'] },
        mode: { type: ['string', 'integer'] },
      },
      additionalProperties: false,
    },
  },
  {
    id: 'copy',
    schema: {
      type: 'object',
      properties: { src: { type: 'string' }, content: { type: 'string' }, dest: { type: 'string' }, mode: { type: ['string', 'integer'] } },
      required: ['dest'],
      additionalProperties: false,
    },
  },
  { id: 'set_fact', schema: { type: 'object', propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, minProperties: 1 } },
  {
    id: 'wait_for',
    schema: {
      type: 'object',
      properties: { host: { type: 'string' }, port: { type: 'integer' }, timeout: { type: 'integer' } },
      additionalProperties: false,
    },
  },
];

// Exact names only: the loader itself must map `ansible.builtin.shell` to `shell`.
export const fakeCatalog: ModuleCatalog = {
  lookup(name) {
    return entries.find((entry) => entry.id === name);
  },
  names() {
    return entries.map((entry) => entry.id).sort();
  },
};
