// `debug`: show a message or a variable's value.
import { evaluate, isDeferred } from '../template/index.js';
import { defineModule } from './define.js';

export interface DebugArgs {
  msg?: unknown;
  var?: string;
  verbosity?: number;
}

export const debugModule = defineModule({
  id: 'debug',
  meta: { runsOn: 'deploy-host', prints: true },
  freeForm: 'msg',
  schema: {
    type: 'object',
    properties: { msg: {}, var: { type: 'string', minLength: 1 }, verbosity: { type: 'integer', minimum: 0 } },
    additionalProperties: false,
    not: { required: ['msg', 'var'] },
  },
  async *plan(ctx, args) {
    if (args.var !== undefined) {
      const value = evaluate(args.var, ctx.vars);
      return { changed: false, msg: describe(value), result: { [args.var]: value } };
    }
    const msg = args.msg === undefined ? 'Hello world!' : args.msg;
    return { changed: false, msg: describe(msg), result: { msg } };
  },
});

function describe(value: unknown): string {
  if (typeof value === 'string' || isDeferred(value)) return String(value);
  return JSON.stringify(value);
}
