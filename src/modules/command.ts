// `command`: run a program with arguments, no shell syntax. Templated values arrive shell-quoted, so each
// stays one word when the line is split; the argv is then quoted again, word by word, for the remote shell.
import { shellJoin } from '../shell/quote.js';
import { defineModule } from './define.js';
import { guardOutcome, guardProperties, prefixChdir, runCommandLine, type CommandGuards } from './command-common.js';
import { SplitWordsError, splitShellWords } from './split-words.js';

export interface CommandArgs extends CommandGuards {
  cmd?: string;
  argv?: string[];
}

export const commandModule = defineModule({
  id: 'command',
  meta: { runsOn: 'host' },
  freeForm: 'cmd',
  shellArgs: ['cmd'],
  schema: {
    type: 'object',
    properties: {
      cmd: { type: 'string' },
      argv: { type: 'array', items: { type: ['string', 'number', 'boolean'] }, minItems: 1 },
      ...guardProperties,
    },
    additionalProperties: false,
    oneOf: [{ required: ['cmd'] }, { required: ['argv'] }],
  },
  check(args) {
    if (args.cmd === undefined) return [];
    try {
      return splitShellWords(args.cmd).length === 0 ? ['cmd is empty: give the program to run'] : [];
    } catch (error) {
      return error instanceof SplitWordsError ? [error.message] : [];
    }
  },
  async *plan(_ctx, args) {
    const argv = args.argv ? args.argv.map(String) : splitShellWords(args.cmd ?? '');
    if (argv.length === 0) return { changed: false, failed: true, msg: 'no command given' };
    const guarded = yield* guardOutcome(args, args.cmd ?? shellJoin(argv));
    if (guarded) return guarded;
    return yield* runCommandLine(prefixChdir(args.chdir, shellJoin(argv)), argv, args.stdin);
  },
});
