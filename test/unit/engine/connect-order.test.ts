// When runPlaybook connects: after the pre-check passed (a config error contacts no host), before the
// reporter's first events (which need no connection), and with the first task waiting for the handshakes.
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runPlaybook } from '../../../src/engine/index.js';
import type { OpenTransportsFn, Reporter, RunEvent } from '../../../src/engine/types.js';
import { ConfigError } from '../../../src/errors.js';
import { fakeNetwork, files, threeHosts } from './fakes.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const twoShellTasks = `
- hosts: etcd
  gather_facts: false
  tasks:
    - name: first
      shell: echo one
    - name: second
      shell: echo two
`;

/** Notes, for every event, how many openTransports calls had been made and whether they had finished. */
class OrderReporter implements Reporter {
  seen: { type: RunEvent['type']; opened: number; connected: boolean }[] = [];
  constructor(private readonly state: () => { opened: number; connected: boolean }) {}
  event(event: RunEvent): void {
    this.seen.push({ type: event.type, ...this.state() });
  }
  async close(): Promise<void> {}
}

function slowNetwork(handshakeMs: number): { openTransports: OpenTransportsFn; state: () => { opened: number; connected: boolean } } {
  const network = fakeNetwork();
  let opened = 0;
  let connected = false;
  return {
    state: () => ({ opened, connected }),
    openTransports: async (specs, options) => {
      opened += 1;
      await sleep(handshakeMs);
      const result = await network.openTransports(specs, options);
      connected = true;
      return result;
    },
  };
}

async function runWith(playbook: string, network: ReturnType<typeof slowNetwork>): Promise<OrderReporter> {
  const paths = files(threeHosts, playbook);
  dirs.push(paths.dir);
  const reporter = new OrderReporter(network.state);
  await runPlaybook({ inventory: paths.inventory, playbook: paths.playbook, reporter, openTransports: network.openTransports });
  return reporter;
}

describe('engine: when connections are opened', () => {
  it('connecting starts before the first event, and the first task starts only once every host is connected', async () => {
    const reporter = await runWith(twoShellTasks, slowNetwork(60));
    const runStart = reporter.seen.find((e) => e.type === 'run_start');
    expect(runStart, 'run_start').to.deep.equal({ type: 'run_start', opened: 1, connected: false });
    const firstTask = reporter.seen.find((e) => e.type === 'task_start');
    expect(firstTask, 'task_start').to.deep.equal({ type: 'task_start', opened: 1, connected: true });
  });

  it('the first task’s duration leaves the handshakes out', async () => {
    const paths = files(threeHosts, twoShellTasks);
    dirs.push(paths.dir);
    const events: RunEvent[] = [];
    await runPlaybook({
      inventory: paths.inventory,
      playbook: paths.playbook,
      reporter: { event: (event) => void events.push(event), close: async () => undefined },
      openTransports: slowNetwork(150).openTransports,
    });
    const first = events.filter((e): e is Extract<RunEvent, { type: 'host_result' }> => e.type === 'host_result' && e.task === 'first');
    expect(first).to.have.length(3);
    for (const e of first) expect(e.result.durationMs, e.result.host).to.be.below(150);
  });

  it('a configuration error found by the pre-check opens no connection and emits no event', async () => {
    const network = slowNetwork(0);
    const paths = files(threeHosts, `${twoShellTasks}    - name: broken\n      shell: echo {{ nowhere_defined }}\n`);
    dirs.push(paths.dir);
    const reporter = new OrderReporter(network.state);
    let error: unknown;
    try {
      await runPlaybook({ inventory: paths.inventory, playbook: paths.playbook, reporter, openTransports: network.openTransports });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect(network.state().opened).to.equal(0);
    expect(reporter.seen).to.deep.equal([]);
  });
});
