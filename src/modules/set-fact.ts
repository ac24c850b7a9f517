// `set_fact`: host variables from templated values (they outrank inventory and play vars).
import { defineModule } from './define.js';

export const setFactModule = defineModule({
  id: 'set_fact',
  meta: { runsOn: 'deploy-host', setsFacts: true },
  schema: {
    type: 'object',
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    minProperties: 1,
  },
  async *plan(_ctx, args) {
    const facts = { ...args };
    // Ansible's flag for its fact cache; there is no cache here.
    delete facts.cacheable;
    return { changed: false, facts, result: { ansible_facts: facts } };
  },
});
