// The same observation as observe.ts, taken on the members themselves: `etcdctl endpoint status` and
// `member list` run over SSH on each member against its own client URL, with the member's own client
// certificate. For clusters whose certificates stay on the members (kubeadm's) or whose client port the
// deploy host cannot reach (behind a bastion): no key is copied anywhere.
import type { EtcdMember } from '../../config/types.js';
import { shellJoin } from '../../shell/quote.js';
import type { ExecResult } from '../../transport/types.js';
import type { MemberObservation, ObserveCluster, ObservedMember } from './observe.js';

/** The member's files etcdctl authenticates with (paths on the member). */
export interface MemberClientCerts {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Runs a command on an inventory host (over the run's connection). */
export type RunOnHost = (host: string, command: string, timeoutMs: number) => Promise<ExecResult>;

const separator = '==orchestrate-member-list==';

/** kubeadm's client certificate for health checks, used when nothing else names the member's certificates. */
const kubeadmDefault = '/etc/kubernetes/pki/etcd';

/** etcdctl's flags for asking this member on the member itself, each call under a deadline. */
export function etcdctlFlags(member: EtcdMember, certs: MemberClientCerts, timeoutSeconds: number): string[] {
  return [
    `--endpoints=${member.clientUrl}`,
    ...(certs.ca ? [`--cacert=${certs.ca}`] : []),
    ...(certs.cert ? [`--cert=${certs.cert}`] : []),
    ...(certs.key ? [`--key=${certs.key}`] : []),
    `--command-timeout=${timeoutSeconds}s`,
    `--dial-timeout=${timeoutSeconds}s`,
  ];
}

/**
 * Sets the shell's "$@" to the certificate flags to add: none when the member's certificate is known, else
 * kubeadm's health-check client certificate where the member has one.
 */
export function certificateGuess(certs: MemberClientCerts): string {
  return certs.cert === undefined
    ? `if [ -f ${kubeadmDefault}/healthcheck-client.crt ]; then set -- --cacert=${kubeadmDefault}/ca.crt --cert=${kubeadmDefault}/healthcheck-client.crt --key=${kubeadmDefault}/healthcheck-client.key; else set --; fi; `
    : 'set --; ';
}

/** `timeout N etcdctl FLAGS "$@" ARGS...`, every value quoted (run after certificateGuess). */
export function etcdctlCommand(flags: readonly string[], timeoutSeconds: number, args: readonly string[]): string {
  return `ETCDCTL_API=3 ${shellJoin(['timeout', String(timeoutSeconds + 2), 'etcdctl', ...flags])} "$@" ${shellJoin(args)}`;
}

/** One command: the member's status, then its member list, as JSON, each under a deadline. */
export function statusOverSshCommand(member: EtcdMember, certs: MemberClientCerts, timeoutSeconds: number): string {
  const flags = etcdctlFlags(member, certs, timeoutSeconds);
  // The member list only from a member that answered: one that did not would cost a second dial timeout per poll.
  return [
    `${certificateGuess(certs)}${etcdctlCommand(flags, timeoutSeconds, ['endpoint', 'status', '-w', 'json'])}`,
    `&& { echo ${separator}; ${etcdctlCommand(flags, timeoutSeconds, ['member', 'list', '-w', 'json'])}; }`,
  ].join(' ');
}

/** uint64 ids as strings before JSON.parse (a JS number would round them), then hex as etcdctl prints them. */
export function parseIds(text: string): unknown {
  return JSON.parse(text.replace(/("(?:cluster_id|member_id|leader|ID)"\s*:\s*)(\d+)/g, '$1"$2"'));
}

export const hex = (decimal: unknown): string => {
  try {
    return BigInt(String(decimal)).toString(16);
  } catch {
    return String(decimal);
  }
};

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => (typeof value === 'object' && value !== null ? (value as Obj) : {});

/** The observation from the command's output (a failed status is the member not answering). */
export function parseStatusOverSsh(member: EtcdMember, result: ExecResult, durationMs: number): MemberObservation {
  const base = { name: member.name, host: member.host, endpoint: member.clientUrl, durationMs };
  const [statusText = '', listText = ''] = result.stdout.split(separator);
  try {
    const parsed = parseIds(statusText.trim());
    const entry = obj(Array.isArray(parsed) ? parsed[0] : undefined);
    const status = obj(entry.Status);
    const header = obj(status.header);
    // etcdctl prints `[]` (and its error on stderr) for a member that did not answer in time.
    if (header.member_id === undefined) throw new Error('no status');
    const memberId = hex(header.member_id);
    const leaderId = hex(status.leader);
    const observation: MemberObservation = {
      ...base,
      ok: true,
      memberId,
      clusterId: hex(header.cluster_id),
      leaderId,
      isLeader: leaderId === memberId && leaderId !== '0',
      isLearner: status.isLearner === true,
      revision: Number(header.revision ?? 0),
      raftTerm: Number(status.raftTerm ?? 0),
      raftIndex: Number(status.raftIndex ?? 0),
      dbSize: Number(status.dbSize ?? 0),
      version: typeof status.version === 'string' ? status.version : '',
      ...(Array.isArray(status.errors) && status.errors.length > 0 ? { alarms: status.errors.map(String) } : {}),
    };
    const list = listText.trim() === '' ? undefined : obj(parseIds(listText.trim()));
    if (list && Array.isArray(list.members)) {
      observation.members = list.members.map((m): ObservedMember => {
        const entry = obj(m);
        return {
          id: hex(entry.ID),
          name: typeof entry.name === 'string' ? entry.name : '',
          peerUrls: Array.isArray(entry.peerURLs) ? entry.peerURLs.map(String) : [],
        };
      });
    }
    return observation;
  } catch {
    const why = result.stderr.trim().split('\n').slice(-1)[0] || (result.timedOut ? 'timed out' : `etcdctl exited ${String(result.exitCode)}`);
    return { ...base, ok: false, error: `etcdctl on ${member.host}: ${why}` };
  }
}

/** An ObserveCluster that asks each member on the member, in parallel. */
export function observeOverSsh(run: RunOnHost, certsFor: (member: EtcdMember) => MemberClientCerts): ObserveCluster {
  return (members, options) =>
    Promise.all(
      members.map(async (member) => {
        const started = Date.now();
        const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
        try {
          const result = await run(member.host, statusOverSshCommand(member, certsFor(member), seconds), (seconds + 5) * 1000);
          return parseStatusOverSsh(member, result, Date.now() - started);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return { name: member.name, host: member.host, endpoint: member.clientUrl, ok: false, error: message, durationMs: Date.now() - started };
        }
      }),
    );
}
