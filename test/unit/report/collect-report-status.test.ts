import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../../src/config/inventory.js';
import type { Inventory } from '../../../src/config/types.js';
import type { MemberObservation, ObserveCluster } from '../../../src/etcd/cluster/observe.js';
import { collectReport } from '../../../src/report/collect-report.js';

describe('the report status: asked the way the caller says', () => {
  let dir: string;
  let inventory: Inventory;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-report-status-'));
    const file = join(dir, 'inventory.yml');
    await writeFile(
      file,
      'all:\n  vars:\n    etcd_access: ssh\n  children:\n    etcd:\n      hosts:\n        10.0.0.1: {etcd_name: master-01}\n        10.0.0.2: {etcd_name: master-02}\n',
    );
    inventory = (await loadInventory(file)).inventory;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('surveys through the given observer (etcd_access: ssh) and keeps what it saw', async () => {
    const asked: string[] = [];
    const observe: ObserveCluster = async (members) => {
      asked.push(...members.map((m) => m.name));
      return members.map((m, i): MemberObservation => ({
        name: m.name,
        host: m.host,
        endpoint: m.clientUrl,
        ok: true,
        durationMs: 1,
        isLeader: i === 0,
        revision: 42,
      }));
    };
    const input = await collectReport({ inventory, observe, statusTimeoutMs: 100 });
    expect(asked).to.deep.equal(['master-01', 'master-02']);
    const status = input.status;
    expect(status && 'survey' in status ? status.survey.members.map((m) => [m.name, m.isLeader]) : status).to.deep.equal([
      ['master-01', true],
      ['master-02', false],
    ]);
  });

  it('reports the members that did not answer as an error, not as an empty status', async () => {
    const observe: ObserveCluster = async (members) =>
      members.map((m): MemberObservation => ({
        name: m.name,
        host: m.host,
        endpoint: m.clientUrl,
        ok: false,
        error: 'ssh: connection refused',
        durationMs: 1,
      }));
    const input = await collectReport({ inventory, observe });
    expect(input.status).to.deep.equal({ error: 'master-01: ssh: connection refused; master-02: ssh: connection refused' });
  });

  it('asks nothing with status: false', async () => {
    let calls = 0;
    const observe: ObserveCluster = async () => {
      calls++;
      return [];
    };
    const input = await collectReport({ inventory, observe, status: false });
    expect(calls).to.equal(0);
    expect(input.status).to.equal(undefined);
  });
});
