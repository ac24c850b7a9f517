// etcdctl (v3 API, TLS) from the deploy host against lab members, always with dial and command deadlines:
// a call to a silent endpoint must never hang.
import { runProgram, cleanEnv, type RunResult } from './run-program.js';

export interface EtcdClientFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The lab's network namespace, when its members live in one (bastion labs). */
  netnsPath?: string;
}

export function clientUrl(address: string): string {
  return `https://${address}:2379`;
}

export function etcdctl(
  files: EtcdClientFiles,
  endpoints: readonly string[],
  args: readonly string[],
  options: { timeoutMs?: number; input?: string; netnsPath?: string } = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const commandTimeout = Math.max(1, Math.floor(timeoutMs / 1000) - 1);
  // Members in a lab network namespace are reached from inside it.
  const netns = options.netnsPath ?? files.netnsPath;
  const [program, prefix] = netns ? ['nsenter', [`--net=${netns}`, '--', 'etcdctl']] : ['etcdctl', []];
  return runProgram(
    program,
    [
      ...prefix,
      `--endpoints=${endpoints.join(',')}`,
      `--cacert=${files.caFile}`,
      `--cert=${files.certFile}`,
      `--key=${files.keyFile}`,
      '--dial-timeout=2s',
      `--command-timeout=${commandTimeout}s`,
      ...args,
    ],
    { timeoutMs, input: options.input, env: cleanEnv({ ETCDCTL_API: '3' }) },
  );
}

export interface MemberEndpointStatus {
  endpoint: string;
  memberId: string;
  leaderId: string;
  isLeader: boolean;
  revision: number;
  raftTerm: number;
  dbSize: number;
  version: string;
}

interface RawEndpointStatus {
  Endpoint?: string;
  Status?: {
    header?: { member_id?: number | string; revision?: number | string; raft_term?: number | string };
    version?: string;
    dbSize?: number | string;
    leader?: number | string;
  };
}

/** `etcdctl endpoint status -w json` for one endpoint. Member ids are printed as hex like etcdctl's table. */
export function parseEndpointStatus(stdout: string): MemberEndpointStatus | undefined {
  let parsed: RawEndpointStatus[];
  try {
    parsed = JSON.parse(stdout) as RawEndpointStatus[];
  } catch {
    return undefined;
  }
  const first = parsed[0];
  if (!first?.Status?.header) return undefined;
  // JSON numbers above 2^53 lose precision in JSON.parse: take the ids from the raw text instead.
  const hex = (field: string): string => {
    const match = new RegExp(`"${field}":(\\d+)`).exec(stdout);
    return match?.[1] ? BigInt(match[1]).toString(16) : '';
  };
  const memberId = hex('member_id');
  const leaderId = hex('leader');
  return {
    endpoint: first.Endpoint ?? '',
    memberId,
    leaderId,
    isLeader: memberId !== '' && memberId === leaderId,
    revision: Number(first.Status.header.revision ?? 0),
    raftTerm: Number(first.Status.header.raft_term ?? 0),
    dbSize: Number(first.Status.dbSize ?? 0),
    version: first.Status.version ?? '',
  };
}
