// Replacing one member the way etcd documents it, while the quorum holds: remove it, move its data dir aside,
// add it back (same name and peer URL) as a learner, start it with --initial-cluster-state existing, promote
// it once it has caught up. The rules that refuse it, the commands it runs on the member, and where it
// stands when a run is resumed, read from the live member list (so every step can be sent again).
import { posix } from 'node:path';
import type { EtcdMember } from '../../config/types.js';
import { shellQuote } from '../../shell/quote.js';
import { quorumSize } from '../cluster/health.js';
import type { MemberObservation } from '../cluster/observe.js';
import { initialClusterFlag, normalizeDataDir } from '../restore/identity.js';
import type { MemberConfig } from '../members/read-config.js';
import { envNameOf } from '../members/etcd-flags.js';

/** Where the replaced member's old data goes (kept, never deleted). */
export function replacedDataDir(dataDir: string, runId: string): string {
  return `${normalizeDataDir(dataDir)}.before-replace-${runId}`;
}

export interface ReplaceCheck {
  ok: boolean;
  /** Why it is refused. */
  problem?: string;
  /** Healthy members other than the target (they keep the quorum). */
  healthyOthers: string[];
}

/**
 * Removing the target leaves N-1 voters whose quorum the healthy others must hold (etcd's own strict
 * reconfiguration check); the learner added back does not vote until promoted. So: refuse when the healthy
 * members other than the target are fewer than quorum(N-1), or there are none.
 */
export function checkReplace(members: readonly EtcdMember[], observations: readonly MemberObservation[], targetHost: string): ReplaceCheck {
  const target = members.find((m) => m.host === targetHost);
  if (!target) return { ok: false, problem: `${targetHost} is not an etcd member of the inventory`, healthyOthers: [] };
  const healthyOthers = observations
    .filter((o) => o.host !== targetHost && o.ok && !o.isLearner && o.leaderId !== undefined && o.leaderId !== '0')
    .map((o) => o.host);
  if (members.length === 1)
    return { ok: false, problem: `${target.name} is the only member: replacing it would leave no cluster to rejoin`, healthyOthers };
  if (healthyOthers.length === 0) {
    return {
      ok: false,
      problem: `${target.name} (${targetHost}) is the only healthy member (or none is): replacing it would leave no quorum to rejoin`,
      healthyOthers,
    };
  }
  const needed = quorumSize(members.length - 1);
  if (healthyOthers.length < needed) {
    return {
      ok: false,
      problem: `removing ${target.name} (${targetHost}) would lose quorum: ${members.length - 1} members would remain, ${needed} must be healthy, only ${healthyOthers.length} other${healthyOthers.length === 1 ? ' is' : 's are'} (${healthyOthers.join(', ')})`,
      healthyOthers,
    };
  }
  return { ok: true, healthyOthers };
}

/** The drop-in that makes the next start join the existing cluster; removed once the member has joined. */
export function joinDropInPath(service: string): string {
  return `/etc/systemd/system/${service}.service.d/90-orchestrate-join.conf`;
}

/** Control characters but the tab: a line break in a unit file word would start a new directive. */
// eslint-disable-next-line no-control-regex -- control characters are what this finds
const UNIT_UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * A word of an argv already substituted and expanded, as systemd reads it back unchanged: `$` and `%`
 * doubled (no second substitution), quoted when it holds blanks, quotes or backslashes, or is a lone `;`
 * (unquoted, systemd reads that as the start of another command). A control character other than a tab (a line
 * break would start a new directive) has no safe form here: joinDropIn refuses such words before they get here.
 */
export function quoteUnitWord(word: string): string {
  if (UNIT_UNSAFE.test(word)) throw new Error(`a unit file word cannot hold a control character: ${JSON.stringify(word)}`);
  const escaped = word.replaceAll('$', '$$$$').replaceAll('%', '%%');
  if (escaped !== '' && escaped !== ';' && !/[\s"'\\]/.test(escaped)) return escaped;
  return `"${escaped.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The same command with these flags set (each old occurrence, `--flag=v` or `--flag v`, removed first). */
export function withFlagWords(words: readonly string[], set: ReadonlyMap<string, string>): string[] {
  const kept: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const match = i > 0 ? /^--?([A-Za-z0-9-]+)(=.*)?$/.exec(word) : null;
    if (match && set.has(match[1] ?? '')) {
      const next = words[i + 1];
      if (match[2] === undefined && next !== undefined && !next.startsWith('-')) i++;
      continue;
    }
    kept.push(word);
  }
  for (const [flag, value] of set) kept.push(`--${flag}=${value}`);
  return kept;
}

/** The flags a joining member starts with: it joins the running cluster, whose members the inventory lists. */
export function joinFlags(members: readonly EtcdMember[]): Map<string, string> {
  return new Map([
    ['initial-cluster-state', 'existing'],
    ['initial-cluster', initialClusterFlag(members)],
  ]);
}

/**
 * The member's ETCD_* variables that name a join flag (kubespray's /etc/etcd.env sets ETCD_INITIAL_CLUSTER and
 * ETCD_INITIAL_CLUSTER_STATE). etcd refuses to start when a flag and its variable are both set, so the join
 * removes these from its environment instead of letting them clash.
 */
export function joinClashingVariables(config: MemberConfig, flags: ReadonlyMap<string, string>): string[] {
  const set = new Set(config.etcdVariables ?? []);
  return [...flags.keys()].map(envNameOf).filter((name) => set.has(name));
}

/** Why the member's own command cannot carry the join flags (a --config-file makes etcd ignore them; another name), if it cannot. */
export function joinRefusal(config: MemberConfig, member: EtcdMember, what: 'unit' | 'manifest'): string | undefined {
  if (config.settings.configFile !== undefined)
    return `etcd on ${member.host} reads --config-file ${config.settings.configFile}, which makes it ignore flags: set initial-cluster-state: existing there by hand`;
  const name = config.settings.name;
  if (name !== undefined && name !== member.name) return `the ${what} runs etcd --name ${name}, the inventory says ${member.name}`;
  return undefined;
}

/**
 * Its text: the command the unit runs (as etcd.member-config read it: ExecStart with its drop-ins and
 * EnvironmentFiles applied) with --initial-cluster-state=existing and the cluster's member list; the ETCD_*
 * variables for those flags unset (etcd refuses a flag and its variable together); a --config-file makes etcd
 * ignore flags, so that case is refused.
 */
export function joinDropIn(
  config: MemberConfig | undefined,
  member: EtcdMember,
  members: readonly EtcdMember[],
  runId: string,
): string | { problem: string } {
  if (!config) return { problem: `the configuration of ${member.host} was not read (etcd.member-config runs first)` };
  if (config.topology !== 'systemd')
    return { problem: `${member.host} runs etcd as a kubeadm static pod: its join is a manifest (join-manifest.ts)` };
  const argv = config.argv;
  if (!argv || argv.length === 0) return { problem: `the unit ${member.service} has no ExecStart (${config.sources.join(', ') || 'no unit found'})` };
  const refused = joinRefusal(config, member, 'unit');
  if (refused) return { problem: refused };
  const flags = joinFlags(members);
  const words = withFlagWords(argv, flags);
  const unset = joinClashingVariables(config, flags);
  const odd = words.find((word) => UNIT_UNSAFE.test(word));
  if (odd !== undefined)
    return {
      problem: `the join command for ${member.host} would hold ${JSON.stringify(odd)}: a control character cannot be written into a unit file (check the members' names and peer URLs in their configuration)`,
    };
  const command = words.map(quoteUnitWord).join(' ');
  return [
    `# Written by orchestrate member replace (run ${runId}): ${member.name} joins the running cluster as a new member.`,
    '# Removed once it has joined; with its data dir in place etcd ignores the --initial-* flags.',
    '[Service]',
    // Applied after EnvironmentFile= (which Environment= could not override): the flags alone say it.
    ...(unset.length > 0 ? [`UnsetEnvironment=${unset.join(' ')}`] : []),
    'ExecStart=',
    `ExecStart=${command}`,
    '',
  ].join('\n');
}

/** Write the drop-in (temporary name, then rename) and reload the units. */
export function writeDropInCommand(path: string, text: string): string {
  const dir = posix.dirname(path);
  return [
    `mkdir -p ${shellQuote(dir)}`,
    `printf '%s' ${shellQuote(text)} > ${shellQuote(`${path}.tmp`)}`,
    `mv ${shellQuote(`${path}.tmp`)} ${shellQuote(path)}`,
    'systemctl daemon-reload',
  ].join(' && ');
}

export function removeDropInCommand(path: string): string {
  return `rm -f ${shellQuote(path)} && systemctl daemon-reload`;
}

/**
 * Move the data dir aside and leave an empty one in its place (same owner, mode 0700: a unit's
 * WorkingDirectory may be the data dir, and etcd initialises a new member in an empty one). Sent again it
 * says what is already so. Prints `moved`, `already` (the aside dir exists: moved by an earlier attempt of
 * this run) or `none` (there was no data dir).
 */
export function setAsideCommand(dataDir: string, aside: string): string {
  const data = shellQuote(normalizeDataDir(dataDir));
  const target = shellQuote(aside);
  const empty = `{ [ -e ${data} ] || { mkdir -m 700 ${data} && chown --reference=${target} ${data}; }; }`;
  return [
    `if [ -e ${target} ]; then ${empty} && echo already`,
    `elif [ -e ${data} ]; then mv ${data} ${target} && ${empty} && echo moved`,
    `else mkdir -m 700 -p ${data} && echo none`,
    'fi',
  ].join('\n');
}

/** An empty data dir when there is none (owned like the old one, when it was set aside): etcd starts a new member in it. */
export function ensureDataDirCommand(dataDir: string, aside: string): string {
  const data = shellQuote(normalizeDataDir(dataDir));
  const target = shellQuote(aside);
  return `[ -e ${data} ] || { mkdir -m 700 -p ${data} && if [ -e ${target} ]; then chown --reference=${target} ${data}; fi; }`;
}

/** Where a replace stands, from the live member list: what is left to do. */
export type ReplaceStage = 'remove' | 'add' | 'start' | 'promote' | 'done';

export function replaceStage(
  listed: readonly { id: string; name: string; peerUrls: string[]; isLearner: boolean }[],
  target: EtcdMember,
  removedId: string | undefined,
): { stage: ReplaceStage; id?: string } {
  const entry = listed.find((m) => m.peerUrls.includes(target.peerUrl)) ?? listed.find((m) => m.name === target.name);
  if (!entry) return { stage: 'add' };
  if (removedId === undefined || entry.id === removedId) return { stage: 'remove', id: entry.id };
  if (entry.name === '') return { stage: 'start', id: entry.id };
  if (entry.isLearner) return { stage: 'promote', id: entry.id };
  return { stage: 'done', id: entry.id };
}
