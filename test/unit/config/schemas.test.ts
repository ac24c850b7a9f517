import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { configSchema } from '../../../src/config/schema-validation.js';

// The loaders skip meta-schema validation for start-up speed; this is where the schemas are held to it.
describe('schemas/*.schema.json', () => {
  for (const name of ['inventory', 'playbook'] as const) {
    it(`${name} is a valid, strict draft 2020-12 schema`, () => {
      const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
      ajv.addVocabulary(['x-expected', 'x-hint']);
      const schema = configSchema(name);
      expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).to.equal(true);
      expect(() => ajv.compile(schema)).to.not.throw();
    });
  }
});
