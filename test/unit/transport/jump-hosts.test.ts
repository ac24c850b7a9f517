// The jump host pool with fake connections: one connection per jump host however many hosts wait for it,
// chains opened hop by hop, closed with the last user, and a failure not remembered.
import { expect } from 'chai';
import { PassThrough, type Duplex } from 'node:stream';
import type { Client as SshClient } from 'ssh2';
import { UnreachableError } from '../../../src/errors.js';
import { forwardThrough, JumpHostPool, type HopConnector } from '../../../src/transport/jump-hosts.js';
import type { SshEndpoint } from '../../../src/transport/ssh-target.js';

const hop = (alias: string, port = 22): SshEndpoint => ({
  host: `jump host ${alias}`,
  alias,
  address: alias,
  port,
  user: 'ops',
  jump: true,
  identityFiles: [],
  identitiesOnly: false,
  knownHostsFiles: [],
  hostKeyPolicy: { policy: 'strict' },
  connectTimeoutMs: 500,
  keepaliveIntervalMs: 5000,
  keepaliveCountMax: 3,
});

interface FakeClient {
  name: string;
  ended: boolean;
  forwards: string[];
  refuse?: string;
}

function fakeConnector(log: string[], failing = new Set<string>()): { connect: HopConnector; clients: FakeClient[] } {
  const clients: FakeClient[] = [];
  const connect: HopConnector = async (endpoint, sock) => {
    log.push(`connect ${endpoint.alias}${sock ? ' (through a forwarded channel)' : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (failing.has(endpoint.alias)) throw new UnreachableError(endpoint.host, `connection refused by ${endpoint.address}:${endpoint.port}`);
    const fake: FakeClient = { name: endpoint.alias, ended: false, forwards: [] };
    clients.push(fake);
    const client = {
      end: () => {
        fake.ended = true;
      },
      forwardOut: (_srcIP: string, _srcPort: number, address: string, port: number, cb: (error: Error | undefined, stream: Duplex) => void) => {
        fake.forwards.push(`${address}:${port}`);
        setTimeout(() => {
          if (fake.refuse) cb(new Error(`(SSH) Channel open failure: ${fake.refuse}`), new PassThrough());
          else cb(undefined, new PassThrough());
        }, 5);
      },
    };
    return client as unknown as SshClient;
  };
  return { connect, clients };
}

async function refusal(promise: Promise<unknown>): Promise<UnreachableError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(UnreachableError);
    return error as UnreachableError;
  }
  throw new Error('expected a refusal');
}

describe('JumpHostPool', () => {
  it('opens one connection per jump host for any number of hosts, and closes it with the last', async () => {
    const pool = new JumpHostPool();
    const log: string[] = [];
    const { connect, clients } = fakeConnector(log);
    const leases = await Promise.all(Array.from({ length: 5 }, () => pool.acquire([hop('bastion')], connect)));
    expect(log).to.deep.equal(['connect bastion']);
    expect(pool.openCount).to.equal(1);
    for (const lease of leases.slice(1)) lease.release();
    expect(clients[0]?.ended).to.equal(false);
    leases[0]?.release();
    leases[0]?.release(); // a second release of the same lease changes nothing
    await new Promise((resolve) => setImmediate(resolve));
    expect(clients[0]?.ended).to.equal(true);
    expect(pool.openCount).to.equal(0);
  });

  it('opens a chain hop by hop, each through the one before, and shares the first hop between chains', async () => {
    const pool = new JumpHostPool();
    const log: string[] = [];
    const { connect, clients } = fakeConnector(log);
    const a = await pool.acquire([hop('outer'), hop('inner', 2200)], connect);
    const b = await pool.acquire([hop('outer'), hop('other')], connect);
    expect(log).to.deep.equal(['connect outer', 'connect inner (through a forwarded channel)', 'connect other (through a forwarded channel)']);
    expect(clients[0]?.forwards).to.deep.equal(['inner:2200', 'other:22']);
    a.release();
    b.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(clients.map((client) => client.ended)).to.deep.equal([true, true, true]);
  });

  it('gives every waiting host the jump host failure, and tries again for the next host', async () => {
    const pool = new JumpHostPool();
    const log: string[] = [];
    const failing = new Set(['bastion']);
    const { connect } = fakeConnector(log, failing);
    const results = await Promise.allSettled([pool.acquire([hop('bastion')], connect), pool.acquire([hop('bastion')], connect)]);
    expect(results.map((result) => (result.status === 'rejected' ? (result.reason as Error).message : 'ok'))).to.deep.equal([
      'jump host bastion: connection refused by bastion:22',
      'jump host bastion: connection refused by bastion:22',
    ]);
    expect(log).to.deep.equal(['connect bastion']);
    failing.clear();
    const lease = await pool.acquire([hop('bastion')], connect);
    expect(log).to.deep.equal(['connect bastion', 'connect bastion']);
    lease.release();
  });

  it('forwardThrough: a refused channel names the jump host, the target and the reason; a silent one times out', async () => {
    const log: string[] = [];
    const { connect, clients } = fakeConnector(log);
    const client = await connect(hop('bastion'), undefined, () => undefined);
    clients[0]!.refuse = 'Connection refused';
    let error = await refusal(forwardThrough({ client, hop: hop('bastion') }, 'etcd1', '10.0.0.1', 22, 1000));
    expect(error.message).to.equal('etcd1: jump host bastion (bastion:22) cannot connect to 10.0.0.1:22: Connection refused');
    clients[0]!.refuse = 'administratively prohibited';
    error = await refusal(forwardThrough({ client, hop: hop('bastion') }, 'etcd1', '10.0.0.1', 22, 1000));
    expect(error.hint).to.contain('AllowTcpForwarding');
    const silent = { forwardOut: () => undefined } as unknown as SshClient;
    error = await refusal(forwardThrough({ client: silent, hop: hop('bastion') }, 'etcd1', '10.0.0.1', 22, 50));
    expect(error.message).to.equal('etcd1: jump host bastion did not reach 10.0.0.1:22 within 0.05 s');
  });
});
