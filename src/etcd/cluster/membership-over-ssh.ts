// The membership calls of a replace (member list, add, remove, promote, and the raft barrier) made with
// etcdctl on a healthy member over SSH, with that member's own client certificate: for clusters whose
// certificates stay on the members (kubeadm's). The same calls as EtcdMemberClient's, so the replace steps
// use either one.
import type { EtcdMember } from '../../config/types.js';
import type { ListedMember } from '../client.js';
import { certificateGuess, etcdctlCommand, etcdctlFlags, hex, parseIds, type MemberClientCerts, type RunOnHost } from './observe-over-ssh.js';

/** What the replace steps ask of a member (EtcdMemberClient has these too). Ids are hex, as etcdctl prints them. */
export interface MembershipClient {
  memberList(): Promise<{ members: ListedMember[] }>;
  /** `name` only labels etcdctl's output: the member gives itself its name when it starts. */
  memberAdd(peerUrls: string[], isLearner: boolean, name: string): Promise<{ id: string; members: ListedMember[] }>;
  memberRemove(id: string): Promise<void>;
  memberPromote(id: string): Promise<void>;
  raftBarrier(): Promise<void>;
  close(): void;
}

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => (typeof value === 'object' && value !== null ? (value as Obj) : {});

function listed(value: unknown): ListedMember {
  const entry = obj(value);
  const urls = (list: unknown) => (Array.isArray(list) ? list.map(String) : []);
  return {
    id: hex(entry.ID),
    name: typeof entry.name === 'string' ? entry.name : '',
    peerUrls: urls(entry.peerURLs),
    clientUrls: urls(entry.clientURLs),
    isLearner: entry.isLearner === true,
  };
}

/** A member id as etcdctl takes it: hex digits only (it is also a shell word). */
function hexArgument(id: string): string {
  if (!/^[0-9a-f]{1,16}$/i.test(id)) throw new Error(`not a member id: ${id}`);
  return id;
}

/** etcdctl on `peer` over SSH; each call fails with etcdctl's own message (etcd's refusals are matched on it). */
export function membershipOverSsh(run: RunOnHost, peer: EtcdMember, certs: MemberClientCerts, timeoutMs: number): MembershipClient {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const flags = etcdctlFlags(peer, certs, seconds);
  const etcdctl = async (what: string, args: string[]): Promise<string> => {
    const result = await run(peer.host, `${certificateGuess(certs)}${etcdctlCommand(flags, seconds, args)}`, (seconds + 5) * 1000);
    if (result.exitCode === 0) return result.stdout;
    const why = result.stderr.trim().split('\n').slice(-1)[0] || (result.timedOut ? 'timed out' : `etcdctl exited ${String(result.exitCode)}`);
    throw new Error(`${peer.name} ${what} (etcdctl on ${peer.host}): ${why.replace(/^Error:\s*/, '')}`);
  };
  const json = async (what: string, args: string[]): Promise<Obj> => {
    const text = await etcdctl(what, [...args, '-w', 'json']);
    try {
      return obj(parseIds(text.trim()));
    } catch {
      throw new Error(`${peer.name} ${what} (etcdctl on ${peer.host}): not JSON: ${text.trim().slice(0, 200)}`);
    }
  };
  const members = (answer: Obj) => (Array.isArray(answer.members) ? answer.members.map(listed) : []);
  return {
    async memberList() {
      return { members: members(await json('member list', ['member', 'list'])) };
    },
    async memberAdd(peerUrls, isLearner, name) {
      const args = ['member', 'add', name, `--peer-urls=${peerUrls.join(',')}`, ...(isLearner ? ['--learner'] : [])];
      const answer = await json('member add', args);
      return { id: hex(obj(answer.member).ID), members: members(answer) };
    },
    async memberRemove(id) {
      await etcdctl('member remove', ['member', 'remove', hexArgument(id)]);
    },
    async memberPromote(id) {
      await etcdctl('member promote', ['member', 'promote', hexArgument(id)]);
    },
    // A lease granted, then revoked: two raft entries that change no key (see EtcdMemberClient.raftBarrier).
    async raftBarrier() {
      const granted = /lease ([0-9a-f]+) granted/i.exec(await etcdctl('lease grant', ['lease', 'grant', '30']));
      if (!granted?.[1]) throw new Error(`${peer.name} lease grant (etcdctl on ${peer.host}): no lease id in its answer`);
      await etcdctl('lease revoke', ['lease', 'revoke', granted[1]]);
    },
    close() {},
  };
}
