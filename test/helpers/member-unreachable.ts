// A lab host that goes silent for a while, then comes back on its own (a test fixture of the fault matrix).
//
// The lab's hosts share the deploy host's loopback, so "unreachable" takes two parts:
// - every packet to or from the host's own address is dropped, by an nftables table of its own (other
//   lab addresses and the rest of 127.0.0.0/8 are untouched): new connections time out, open ones stall;
// - the host's own outgoing connections leave from 127.0.0.1, which no packet filter can tell from the
//   other members', so its processes (every process in its mount namespace) are frozen for the same time
//   with the cgroup freezer: it sends nothing either.
// A detached watchdog (its own session) sets both up and undoes both after `seconds`, also when the test
// process dies or the watchdog gets SIGTERM; `after()` hooks call `end()` to bring the host back early.
import { spawn } from 'node:child_process';
import type { LabHostInfo, LabInfo } from './lab.js';

export interface Unreachable {
  /** pid of the watchdog, which ends once the host is back. */
  pid: number;
  /** Resolves once the host is cut off (packets dropped, processes frozen). */
  isolated: Promise<void>;
  /** Resolves once the host is reachable again (the watchdog undid both and ended). */
  back: Promise<void>;
  /** Brings the host back now (SIGTERM to the watchdog, by pid), then waits for it. */
  end(): Promise<void>;
}

// Positional parameters: $1 address, $2 mount namespace (mnt:[inode]), $3 seconds, $4 name of table and cgroup.
const watchdog = `
set -u
trap '' PIPE HUP INT
table="$4"
cg="/sys/fs/cgroup/freezer/$4"
sleeper=""
back() {
  trap '' TERM EXIT
  [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
  nft delete table inet "$table" 2>/dev/null
  if [ -d "$cg" ]; then
    echo THAWED > "$cg/freezer.state"
    # A process that forked or exited meanwhile keeps the group busy for a moment: try again, bounded.
    for try in 1 2 3 4 5 6 7 8 9 10; do
      for pid in $(cat "$cg/cgroup.procs"); do echo "$pid" > /sys/fs/cgroup/freezer/cgroup.procs 2>/dev/null; done
      rmdir "$cg" 2>/dev/null && break
      sleep 0.2
    done
  fi
  echo back
}
trap 'back; exit 0' TERM EXIT
in_host() { stat -c '%N' /proc/[0-9]*/ns/mnt 2>/dev/null | grep -F -- "-> '$2'" | cut -d/ -f3; }
nft -f - <<EOF || exit 1
table inet $table {
  chain output { type filter hook output priority -10; policy accept; ip daddr $1 drop; ip saddr $1 drop; }
  chain input { type filter hook input priority -10; policy accept; ip daddr $1 drop; ip saddr $1 drop; }
}
EOF
mkdir "$cg" || exit 1
for pid in $(in_host "$@"); do echo "$pid" > "$cg/cgroup.procs" 2>/dev/null; done
echo FROZEN > "$cg/freezer.state"
# A process forked before its parent moved: moved now, into the frozen group (it freezes there).
for pid in $(in_host "$@"); do echo "$pid" > "$cg/cgroup.procs" 2>/dev/null; done
sleep "$3" >/dev/null 2>&1 &
sleeper=$!
echo isolated
wait "$sleeper"
`;

let made = 0;

/** Makes `host` unreachable for `seconds` (at most 120); it comes back by itself. */
export function makeUnreachable(lab: LabInfo, host: LabHostInfo, seconds: number): Unreachable {
  if (lab.netns) throw new Error('makeUnreachable: a bastion lab keeps its hosts in a namespace of their own; not supported');
  if (!/^127\.\d+\.\d+\.\d+$/.test(host.address)) throw new Error(`makeUnreachable: ${host.address} is not a loopback address`);
  if (!(seconds > 0 && seconds <= 120)) throw new Error(`makeUnreachable: ${seconds} s is out of bounds (0-120)`);
  const name = `orchestrate_fault_${process.pid}_${++made}_${host.address.split('.').join('_')}`;
  const child = spawn('sh', ['-c', watchdog, 'sh', host.address, host.mountNamespace, String(seconds), name], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  let markIsolated: () => void = () => undefined;
  let failIsolated: (error: Error) => void = () => undefined;
  const isolated = new Promise<void>((resolve, reject) => {
    markIsolated = resolve;
    failIsolated = reject;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('isolated\n')) markIsolated();
  });
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const back = new Promise<void>((resolve) =>
    child.on('close', () => {
      failIsolated(new Error(`the watchdog ended before ${host.address} was cut off: ${errors.trim() || output.trim()}`));
      resolve();
    }),
  );
  // Awaited later, if at all: a rejection must not count as unhandled meanwhile.
  isolated.catch(() => undefined);
  child.unref();
  const pid = child.pid!;
  return {
    pid,
    isolated,
    back,
    async end() {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already back
      }
      await back;
    },
  };
}
