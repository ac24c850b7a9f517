// kubeadm's control plane runs as static pods: kubelet starts what /etc/kubernetes/manifests holds and stops
// what leaves it. A restore stops etcd and the API by moving their manifests aside into a folder of the run
// (beside the manifests folder, never inside it: kubelet would read it) and waits until crictl shows their
// containers gone; it starts them by moving the manifests back (starting kubelet if it is down) and waits
// until they run, restarting kubelet once if they do not come back. Both scripts are constant; the folders, the wait and the pod names are
// their arguments, so a re-run after an interruption finishes what is left.
import { posix } from 'node:path';
import { shellJoin } from '../../shell/quote.js';

/** Where a run's manifests wait while their pods are stopped. */
export function manifestsAsideDir(manifestsDir: string, runId: string): string {
  return posix.join(posix.dirname(posix.normalize(manifestsDir)), `orchestrate-aside-${runId}`);
}

const running = `[ -n "$(crictl ps -q --state running --name "^$p\\$" 2>/dev/null)" ]`;

const stopScript = [
  'dir=$1; aside=$2; wait=$3; shift 3',
  'command -v crictl >/dev/null 2>&1 || { echo "crictl is not on the PATH: it is needed to see the static pods stop" >&2; exit 4; }',
  'mkdir -p "$aside" && chmod 700 "$aside" || exit 1',
  'for p in "$@"; do if [ -f "$dir/$p.yaml" ]; then mv "$dir/$p.yaml" "$aside/$p.yaml" || exit 1; fi; done',
  'end=$(( $(date +%s) + wait ))',
  `for p in "$@"; do while ${running}; do if [ "$(date +%s)" -ge "$end" ]; then echo "still running $wait s after its manifest was moved aside: $p" >&2; exit 1; fi; sleep 0.3; done; done`,
  'echo stopped',
].join('\n');

const startScript = [
  'dir=$1; aside=$2; wait=$3; shift 3',
  'for p in "$@"; do if [ -f "$aside/$p.yaml" ]; then mv "$aside/$p.yaml" "$dir/$p.yaml" || exit 1; fi; done',
  'rmdir "$aside" 2>/dev/null',
  'command -v crictl >/dev/null 2>&1 || { echo "crictl is not on the PATH: it is needed to see the static pods start" >&2; exit 4; }',
  // kubelet down (a power cut, a recover): nothing would start the pods; start it rather than wait for nothing.
  'systemctl is-active --quiet kubelet 2>/dev/null || systemctl start kubelet || exit 1',
  `up() { end=$(( $(date +%s) + $1 )); shift; for p in "$@"; do [ -f "$dir/$p.yaml" ] || continue; until ${running}; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.3; done; done; }`,
  'half=$(( (wait + 1) / 2 ))',
  'if up "$half" "$@"; then echo started; exit 0; fi',
  // kubelet missed the manifests (or is wedged): restart it once, as an operator would.
  'systemctl restart kubelet || exit 1',
  'if up "$half" "$@"; then echo started-after-kubelet-restart; exit 0; fi',
  'echo "not running $wait s after their manifests came back (kubelet restarted once): $*" >&2; exit 1',
].join('\n');

/** Move the pods' manifests aside and wait (bounded) until their containers are gone. Prints `stopped`. */
export function stopStaticPodsCommand(manifestsDir: string, asideDir: string, pods: readonly string[], waitSeconds: number): string {
  return shellJoin(['sh', '-c', stopScript, 'sh', manifestsDir, asideDir, String(waitSeconds), ...pods]);
}

/** Move the pods' manifests back and wait (bounded) until their containers run. Prints `started`. */
export function startStaticPodsCommand(manifestsDir: string, asideDir: string, pods: readonly string[], waitSeconds: number): string {
  return shellJoin(['sh', '-c', startScript, 'sh', manifestsDir, asideDir, String(waitSeconds), ...pods]);
}
