// What to do with a host key that is not in known_hosts. `strict` refuses it (with its fingerprint and the
// fix); `accept-new` records it and goes on. A changed key is refused under both: no setting, not even
// Ansible's `host_key_checking = False` or ssh_config's `StrictHostKeyChecking no`, trusts one silently.
import type { StrictHostKeyChecking } from '../config/ssh-config-options.js';

export type HostKeyPolicy = 'strict' | 'accept-new';

/** Where a notice goes; the CLI passes one writer per run. */
export type Notify = (message: string) => void;

/** A policy and why it applies, for the notice that says so. */
export interface ChosenPolicy {
  policy: HostKeyPolicy;
  /** e.g. `host_key_checking = False in ./ansible.cfg`; set when the notice should be given. */
  reason?: string;
}

/**
 * The policy for one connection: an explicit one (command line, ansible.cfg) first, then ssh_config's
 * StrictHostKeyChecking (`no` becomes accept-new, never "accept anything"), else strict.
 */
export function choosePolicy(
  explicit: { policy?: HostKeyPolicy; reason?: string; acceptNewHostKeys?: boolean },
  fromSshConfig: { value: StrictHostKeyChecking; where?: string },
): ChosenPolicy {
  if (explicit.policy) return explicit.reason !== undefined ? { policy: explicit.policy, reason: explicit.reason } : { policy: explicit.policy };
  if (explicit.acceptNewHostKeys === true) return { policy: 'accept-new' };
  const where = fromSshConfig.where !== undefined ? ` (${fromSshConfig.where})` : '';
  if (fromSshConfig.value === 'accept-new') return { policy: 'accept-new', reason: `StrictHostKeyChecking accept-new${where}` };
  if (fromSshConfig.value === 'no') return { policy: 'accept-new', reason: `StrictHostKeyChecking no${where} is taken as accept-new` };
  return { policy: 'strict' };
}

/** The one-line notice for an accept-new policy that came from configuration. */
export function acceptNewNotice(reason: string, knownHostsFile: string): string {
  return (
    `warning: ${reason}: keys of hosts not yet in ${knownHostsFile} are accepted and recorded there; ` + 'a host whose key changed is still refused'
  );
}

const given = new WeakMap<Notify, Set<string>>();

/** Gives `message` to `notify` once: the same notice is not repeated within a run (one writer per run). */
export function notifyOnce(notify: Notify, message: string): void {
  let seen = given.get(notify);
  if (!seen) {
    seen = new Set();
    given.set(notify, seen);
  }
  if (seen.has(message)) return;
  seen.add(message);
  notify(message);
}

/** The default writer: standard error, so a run's notices reach the operator even without a reporter. */
export const writeToStderr: Notify = (message) => {
  process.stderr.write(`${message}\n`);
};
