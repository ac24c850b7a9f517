// `file`: directories, touched files, removal, modes and owners. A read-only stat runs first, so the
// module only plans the commands that would change something.
import { shellJoin } from '../shell/quote.js';
import { defineModule, type ModuleOutcome } from './define.js';
import { formatMode, modeProblem, parseMode } from './file-mode.js';
import { booleanSchema, toBool } from './helpers.js';
import { exec, mustSucceed } from './plan-steps.js';
import { statRemote, type RemoteStat } from './remote-stat.js';
import type { Step } from './step.js';

export interface FileArgs {
  path?: string;
  /** Ansible's aliases of `path` (kubeasz writes `file: name=...`). */
  dest?: string;
  name?: string;
  state?: 'directory' | 'absent' | 'touch' | 'file';
  mode?: string | number;
  owner?: string;
  group?: string;
  recurse?: boolean | string;
}

export const fileModule = defineModule({
  id: 'file',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      name: { type: 'string', minLength: 1 },
      state: { enum: ['directory', 'absent', 'touch', 'file'] },
      mode: { type: ['string', 'integer'] },
      owner: { type: 'string', minLength: 1 },
      group: { type: 'string', minLength: 1 },
      recurse: booleanSchema,
    },
    additionalProperties: false,
  },
  check(args) {
    const problems: string[] = [];
    const paths = [args.path, args.dest, args.name].filter((value) => value !== undefined);
    if (paths.length !== 1) problems.push('give exactly one of path, dest or name (they are aliases)');
    const problem = modeProblem(args.mode);
    if (problem) problems.push(problem);
    return problems;
  },
  async *plan(_ctx, args) {
    const state = args.state ?? 'file';
    const path = args.path ?? args.dest ?? args.name ?? '';
    const before = yield* statRemote(path);
    if (typeof before === 'string') return { changed: false, failed: true, msg: before, result: { path } };
    let changed = false;
    const failed = (msg: string): ModuleOutcome => ({ changed, failed: true, msg, result: { path, state } });

    if (state === 'absent') {
      if (before && !before.exists) return { changed: false, result: { path, state: 'absent' } };
      mustSucceed(yield* exec(shellJoin(['rm', '-rf', '--', path])), `rm -rf ${path}`, { path, state });
      return { changed: true, result: { path, state: 'absent' } };
    }

    if (state === 'directory') {
      if (before?.exists && before.type !== 'directory') return failed(`${path} exists and is not a directory`);
      if (!before?.exists) {
        mustSucceed(yield* exec(shellJoin(['mkdir', '-p', '--', path])), `mkdir -p ${path}`, { path, state });
        changed = true;
      }
    } else if (state === 'touch') {
      mustSucceed(yield* exec(shellJoin(['touch', '--', path])), `touch ${path}`, { path, state });
      changed = true;
    } else if (before && !before.exists) {
      return failed(`file ${path} is absent, cannot continue (use state: touch or state: directory to create it)`);
    }

    // A path just created has no known mode/owner: plan the change.
    const known: RemoteStat | undefined = before?.exists && state !== 'touch' ? before : undefined;
    const attributesChanged = yield* applyAttributes(path, args, known);
    changed ||= attributesChanged;
    const mode = args.mode === undefined ? before?.mode : parseMode(args.mode);
    return { changed, result: { path, state, ...(mode !== undefined ? { mode: formatMode(mode) } : {}) } };
  },
});

/** chmod/chown where the wanted value differs from what stat saw. Returns whether it changed something; a failure ends the plan. */
export async function* applyAttributes(
  path: string,
  args: { mode?: string | number; owner?: string; group?: string; recurse?: boolean | string },
  current: RemoteStat | undefined,
): AsyncGenerator<Step, boolean, unknown> {
  let changed = false;
  const recurse = toBool(args.recurse) ? ['-R'] : [];
  if (args.mode !== undefined) {
    const mode = parseMode(args.mode);
    if (recurse.length > 0 || current?.mode !== mode) {
      mustSucceed(yield* exec(shellJoin(['chmod', ...recurse, formatMode(mode), '--', path])), `chmod ${formatMode(mode)} ${path}`, { path });
      changed = true;
    }
  }
  const ownerDiffers = args.owner !== undefined && (recurse.length > 0 || current?.owner !== args.owner);
  const groupDiffers = args.group !== undefined && (recurse.length > 0 || current?.group !== args.group);
  if (ownerDiffers || groupDiffers) {
    const spec = ownerDiffers ? `${args.owner}${groupDiffers ? `:${args.group}` : ''}` : `:${args.group}`;
    mustSucceed(yield* exec(shellJoin(['chown', ...recurse, spec, '--', path])), `chown ${spec} ${path}`, { path });
    changed = true;
  }
  return changed;
}
