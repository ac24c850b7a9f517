// A member replace on kubeadm: etcd is a static pod, so "start it once with --initial-cluster-state existing"
// means a manifest. The stop moved the original etcd.yaml into the run's folder beside the manifests
// (static-pods.ts); the join writes a copy of it whose etcd command carries the join flags, and once the
// member has joined, the original goes back (kubelet restarts the pod on it; with its data dir in place etcd
// ignores the --initial-* flags). The original is never edited and never leaves the host.
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import type { EtcdMember } from '../../config/types.js';
import { shellJoin } from '../../shell/quote.js';
import type { MemberConfig } from '../members/read-config.js';
import { joinClashingVariables, joinFlags, joinRefusal, withFlagWords } from './replace.js';

/** The joining manifest's text: the original with the etcd container's command (command + args) carrying the join flags. */
export function joinManifest(
  config: MemberConfig | undefined,
  member: EtcdMember,
  members: readonly EtcdMember[],
  runId: string,
): string | { problem: string } {
  if (!config) return { problem: `the configuration of ${member.host} was not read (etcd.member-config runs first)` };
  if (config.topology !== 'kubeadm' || config.manifest === undefined || !config.argv)
    return { problem: `no etcd static pod manifest was read on ${member.host} (${config.sources.join(', ') || 'none found'})` };
  const refused = joinRefusal(config, member, 'manifest');
  if (refused) return { problem: refused };
  const doc = parseDocument(config.manifest);
  const containers = doc.getIn(['spec', 'containers']);
  const items = isSeq(containers) ? containers.items.filter((c): c is YAMLMap => isMap(c)) : [];
  const container = items.find((c) => c.get('name') === 'etcd') ?? items[0];
  if (!container) return { problem: `the etcd manifest of ${member.host} has no container` };
  // One list holds the whole command, so no flag is left behind in `args` to override the join's.
  const flags = joinFlags(members);
  container.set('command', doc.createNode(withFlagWords(config.argv, flags)));
  container.delete('args');
  // etcd refuses a flag and its ETCD_* variable together: the joining copy drops the variables.
  const clashing = new Set(joinClashingVariables(config, flags));
  const env = container.get('env');
  if (clashing.size > 0 && isSeq(env)) env.items = env.items.filter((item) => !(isMap(item) && clashing.has(String(item.get('name')))));
  doc.commentBefore = [
    ` Written by orchestrate member replace (run ${runId}): ${member.name} joins the running cluster as a new member.`,
    ' The original manifest waits beside this folder and is put back once the member has joined.',
  ].join('\n');
  return doc.toString();
}

const running = `[ -n "$(crictl ps -q --state running --name '^etcd$' 2>/dev/null)" ]`;

const joinScript = [
  'dir=$1; aside=$2; wait=$3; text=$4',
  '[ -f "$aside/etcd.yaml" ] || { echo "the original etcd.yaml is not in $aside: the replace did not stop etcd; nothing was written" >&2; exit 1; }',
  'command -v crictl >/dev/null 2>&1 || { echo "crictl is not on the PATH: it is needed to see the static pod start" >&2; exit 4; }',
  // A dot file first (kubelet skips hidden files), then one rename: kubelet never reads half a manifest.
  `printf '%s' "$text" > "$dir/.etcd.yaml.orchestrate-join" && chmod 600 "$dir/.etcd.yaml.orchestrate-join" && mv "$dir/.etcd.yaml.orchestrate-join" "$dir/etcd.yaml" || exit 1`,
  // A member down because its kubelet is down (a power cut) needs it back.
  'systemctl is-active --quiet kubelet 2>/dev/null || systemctl start kubelet || exit 1',
  'end=$(( $(date +%s) + wait ))',
  `until ${running}; do [ "$(date +%s)" -ge "$end" ] && { echo "etcd not running $wait s after its joining manifest was written" >&2; exit 1; }; sleep 0.3; done`,
  'echo started',
].join('\n');

const restoreScript = [
  'dir=$1; aside=$2; wait=$3',
  '[ -f "$aside/etcd.yaml" ] || { echo already; exit 0; }',
  `old=$(crictl ps -q --state running --name '^etcd$' 2>/dev/null)`,
  'mv "$aside/etcd.yaml" "$dir/etcd.yaml" || exit 1',
  'rmdir "$aside" 2>/dev/null',
  'end=$(( $(date +%s) + wait ))',
  // kubelet replaces the pod when its manifest changes: wait for a new container, not the joining one.
  `until now=$(crictl ps -q --state running --name '^etcd$' 2>/dev/null); [ -n "$now" ] && [ "$now" != "$old" ]; do [ "$(date +%s)" -ge "$end" ] && { echo "etcd not restarted on its original manifest $wait s after it was put back" >&2; exit 1; }; sleep 0.3; done`,
  'echo restored',
].join('\n');

/** Write the joining manifest (the original must be in `asideDir`), make sure kubelet runs, wait until etcd runs. */
export function writeJoinManifestCommand(manifestsDir: string, asideDir: string, text: string, waitSeconds: number): string {
  return shellJoin(['sh', '-c', joinScript, 'sh', manifestsDir, asideDir, String(waitSeconds), text]);
}

/** Put the original manifest back and wait until kubelet has restarted etcd on it. Prints `restored` or `already`. */
export function restoreManifestCommand(manifestsDir: string, asideDir: string, waitSeconds: number): string {
  return shellJoin(['sh', '-c', restoreScript, 'sh', manifestsDir, asideDir, String(waitSeconds)]);
}
