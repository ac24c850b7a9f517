// The member-side steps of a replace: `data.set-aside` moves the data dir aside (kept for forensics, never
// deleted), `etcd.join` starts etcd once with --initial-cluster-state existing through a systemd drop-in
// (and removes it once the member has joined), or on kubeadm through a joining copy of the static pod
// manifest (and puts the original back). Both can be sent again after an interruption.
import {
  ensureDataDirCommand,
  joinDropIn,
  joinDropInPath,
  removeDropInCommand,
  replacedDataDir,
  setAsideCommand,
  writeDropInCommand,
} from '../../etcd/member/replace.js';
import { joinManifest, restoreManifestCommand, writeJoinManifestCommand } from '../../etcd/member/join-manifest.js';
import { defaultManifestsDir } from '../../etcd/members/read-config.js';
import { manifestsAsideDir } from '../../etcd/restore/static-pods.js';
import { startEtcdCommand } from '../../etcd/restore/unit-commands.js';
import { defineModule, type ModuleContext } from '../define.js';
import { exec, ModuleFailure, mustSucceed } from '../plan-steps.js';
import { runIdSchema } from '../restore/member-context.js';
import { hostTopology, restoreClusterKey, restoreMembers } from '../restore/restore-state.js';
import { replaceProgress } from './replace-state.js';

/** The member as its own configuration says (etcd.member-config ran first), the inventory's values where it says nothing. */
function memberOf(ctx: ModuleContext) {
  const members = restoreMembers(ctx);
  const member = members.find((m) => m.host === ctx.host.name);
  if (!member) throw new ModuleFailure(`${ctx.host.name} is not an etcd member`);
  return { member, members };
}

export const dataSetAsideModule = defineModule({
  id: 'data.set-aside',
  meta: { runsOn: 'host' },
  schema: { type: 'object', properties: { run_id: runIdSchema }, required: ['run_id'], additionalProperties: false },
  async *plan(ctx, args) {
    const { member } = memberOf(ctx);
    const aside = replacedDataDir(member.dataDir, args.run_id);
    const run = mustSucceed(yield* exec(setAsideCommand(member.dataDir, aside), { timeoutMs: 60_000 }), `move ${member.dataDir} aside`);
    const said = run?.stdout.trim();
    if (said !== 'none') ctx.state.get(replaceProgress).set(member.host, { ...ctx.state.get(replaceProgress).get(member.host), asideDir: aside });
    return {
      changed: said === 'moved' || said === undefined,
      result: { old_data_at: said === 'none' ? null : aside, ...(said ? { outcome: said } : {}) },
    };
  },
});

export const etcdJoinModule = defineModule({
  id: 'etcd.join',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    // checked: build the drop-in from the member's configuration and change nothing (the preflight refuses a member it cannot join).
    properties: {
      run_id: runIdSchema,
      state: { enum: ['checked', 'started', 'joined'] },
      // kubeadm: where the manifests are, and how long to wait for kubelet to start etcd.
      manifests_dir: { type: 'string', pattern: '^/', default: defaultManifestsDir },
      wait_seconds: { type: 'number', exclusiveMinimum: 0, default: 90 },
    },
    required: ['run_id', 'state'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const { member, members } = memberOf(ctx);
    if (hostTopology(ctx) === 'kubeadm') {
      // The stop (etcd.service with this run id) moved the original manifest into the run's folder.
      const aside = manifestsAsideDir(args.manifests_dir, args.run_id);
      const timeoutMs = (args.wait_seconds + 30) * 1000;
      if (args.state === 'joined') {
        const run = mustSucceed(
          yield* exec(restoreManifestCommand(args.manifests_dir, aside, args.wait_seconds), { timeoutMs }),
          'put etcd.yaml back',
        );
        return { changed: run?.stdout.trim() !== 'already', result: { manifest: `${args.manifests_dir}/etcd.yaml` } };
      }
      const text = joinManifest(ctx.state.get(restoreClusterKey).configs.get(member.host), member, members, args.run_id);
      if (typeof text !== 'string') throw new ModuleFailure(text.problem);
      if (args.state === 'checked')
        return { changed: false, msg: 'the joining manifest can be written', result: { manifest: `${args.manifests_dir}/etcd.yaml` } };
      mustSucceed(
        yield* exec(ensureDataDirCommand(member.dataDir, replacedDataDir(member.dataDir, args.run_id)), { timeoutMs: 30_000 }),
        `create ${member.dataDir}`,
      );
      mustSucceed(
        yield* exec(writeJoinManifestCommand(args.manifests_dir, aside, text, args.wait_seconds), { timeoutMs }),
        `start etcd on a joining copy of its manifest (the original kept in ${aside})`,
      );
      return { changed: true, result: { manifest: `${args.manifests_dir}/etcd.yaml`, original_at: `${aside}/etcd.yaml` } };
    }
    const path = joinDropInPath(member.service);
    if (args.state === 'joined') {
      mustSucceed(yield* exec(removeDropInCommand(path), { timeoutMs: 30_000 }), `remove ${path}`);
      return { changed: true, result: { drop_in: path } };
    }
    // An earlier attempt's drop-in (90-orchestrate-join.conf) is part of what was read; it sets the same flags.
    const built = joinDropIn(ctx.state.get(restoreClusterKey).configs.get(member.host), member, members, args.run_id);
    if (typeof built !== 'string') throw new ModuleFailure(built.problem);
    if (args.state === 'checked') return { changed: false, msg: `${path} can be written`, result: { drop_in: path } };
    mustSucceed(
      yield* exec(ensureDataDirCommand(member.dataDir, replacedDataDir(member.dataDir, args.run_id)), { timeoutMs: 30_000 }),
      `create ${member.dataDir}`,
    );
    mustSucceed(yield* exec(writeDropInCommand(path, built), { timeoutMs: 30_000 }), `write ${path}`);
    mustSucceed(yield* exec(startEtcdCommand(member.service), { timeoutMs: 120_000 }), `start ${member.service}`);
    return { changed: true, result: { drop_in: path } };
  },
});
