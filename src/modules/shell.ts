// `shell`: a command line for the remote shell. Only the text written in the playbook is shell syntax;
// every `{{ }}` value inside it is quoted as one word when the argument is rendered (shellArgs).
import { shellJoin } from '../shell/quote.js';
import { defineModule } from './define.js';
import { guardOutcome, guardProperties, prefixChdir, runCommandLine, type CommandGuards } from './command-common.js';

export interface ShellArgs extends CommandGuards {
  cmd: string;
  executable?: string;
}

export const shellModule = defineModule({
  id: 'shell',
  meta: { runsOn: 'host' },
  freeForm: 'cmd',
  shellArgs: ['cmd'],
  schema: {
    type: 'object',
    properties: {
      cmd: { type: 'string', minLength: 1 },
      executable: { type: 'string', minLength: 1 },
      ...guardProperties,
    },
    required: ['cmd'],
    additionalProperties: false,
  },
  async *plan(_ctx, args) {
    const guarded = yield* guardOutcome(args, args.cmd);
    if (guarded) return guarded;
    // Without `executable` the line goes to the login shell as is (what ssh runs); with it, to that shell's -c.
    const line = args.executable === undefined ? args.cmd : shellJoin([args.executable, '-c', args.cmd]);
    return yield* runCommandLine(prefixChdir(args.chdir, line), args.cmd, args.stdin);
  },
});
