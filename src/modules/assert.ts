// `assert`: conditions that must hold, written like `when` (bare expressions).
import { evaluate, isDeferred, truthy } from '../template/index.js';
import { defineModule } from './define.js';
import { booleanSchema, toBool } from './helpers.js';

export interface AssertArgs {
  that: string | string[];
  fail_msg?: unknown;
  msg?: unknown;
  success_msg?: unknown;
  quiet?: boolean | string;
}

export const assertModule = defineModule({
  id: 'assert',
  meta: { runsOn: 'deploy-host' },
  schema: {
    type: 'object',
    properties: {
      that: {
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'boolean' }] }, minItems: 1 },
        ],
      },
      fail_msg: {},
      msg: {},
      success_msg: {},
      quiet: booleanSchema,
    },
    required: ['that'],
    additionalProperties: false,
  } as const,
  async *plan(ctx, args) {
    const conditions = Array.isArray(args.that) ? args.that : [args.that];
    for (const condition of conditions) {
      // A condition already rendered to a boolean (e.g. `that: "{{ x }}"`) is used as is.
      const value = typeof condition === 'string' ? evaluate(condition, ctx.vars) : condition;
      if (isDeferred(value)) {
        return { changed: false, msg: `depends on ${String(value)}`, result: { assertion: condition } };
      }
      if (!truthy(value)) {
        const msg = args.fail_msg ?? args.msg ?? 'Assertion failed';
        return { changed: false, failed: true, msg: text(msg), result: { assertion: condition, evaluated_to: false } };
      }
    }
    const msg = toBool(args.quiet) ? undefined : text(args.success_msg ?? 'All assertions passed');
    return { changed: false, ...(msg !== undefined ? { msg } : {}), result: {} };
  },
});

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
