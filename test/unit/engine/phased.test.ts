// The journaled-phase strategy over fake transports: phases from tags, hosts in parallel with a barrier,
// the policy's say on what still runs, waves, interrupts, and what runs after a failure.
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { runPlaybook } from '../../../src/engine/index.js';
import type { PhaseEvent, PhasePolicy } from '../../../src/engine/phased.js';
import type { RunSummary } from '../../../src/engine/types.js';
import { fakeNetwork, files, RecordingReporter, threeHosts, type FakeNetwork, type Script } from './fakes.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const procedure = `
- hosts: etcd
  gather_facts: false
  tasks:
    - name: first of phase a
      shell: echo a1 {{ inventory_hostname }}
      tags: [a]
    - name: second of phase a
      shell: echo a2 {{ inventory_hostname }}
      tags: [a]
    - name: phase b
      shell: echo b {{ inventory_hostname }}
      tags: [b]
    - name: once on the deploy host
      debug: { msg: done }
      run_once: true
      tags: [c]
    - name: an untagged task is a phase of its own
      shell: echo d {{ inventory_hostname }}
`;

async function phased(policy: PhasePolicy, script: Script = () => undefined, options: { signal?: AbortSignal; dryRun?: boolean } = {}) {
  const paths = files(threeHosts, procedure);
  dirs.push(paths.dir);
  const network: FakeNetwork = fakeNetwork(script);
  const events: PhaseEvent[] = [];
  const summary: RunSummary = await runPlaybook({
    inventory: paths.inventory,
    playbook: paths.playbook,
    reporter: new RecordingReporter(),
    openTransports: network.openTransports,
    phased: { policy, onEvent: (e) => events.push(e) },
    ...options,
  });
  return { summary, network, events, run: summary.phased! };
}

const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];

describe('engine: the journaled-phase strategy', () => {
  it('phases are the tasks grouped by their first tag; every host finishes a phase before the next starts', async () => {
    const { run, network } = await phased({});
    expect(run.phases.map((p) => p.id)).to.deep.equal(['a', 'b', 'c', 'task-an-untagged-task-is-a-phase-of-its-own']);
    const order = network.log.map((e) => e.text.split(' ')[1]);
    // Every host's a1 and a2 come before any b; each host's a1 before its a2.
    const lastA = Math.max(...order.map((t, i) => (t === 'a1' || t === 'a2' ? i : -1)));
    const firstB = order.indexOf('b');
    expect(lastA).to.be.lessThan(firstB);
    for (const host of hosts)
      expect(network.commandsOn(host)).to.deep.equal([`echo a1 ${host}`, `echo a2 ${host}`, `echo b ${host}`, `echo d ${host}`]);
    expect([...run.phases[2]!.results.keys()]).to.deep.equal(['localhost']);
  });

  it('the policy is told when a phase begins and when each host is done, and skips hosts it says are done', async () => {
    const begun: string[] = [];
    const done: string[] = [];
    const { network, run } = await phased({
      shouldRun: (phase, host) => !(phase === 'a' && host === '10.0.0.2'),
      onBegin: (phase) => {
        begun.push(phase);
        return Promise.resolve();
      },
      onHostDone: (phase, host, results) => {
        done.push(`${phase}:${host}:${results.length}`);
        return Promise.resolve();
      },
    });
    expect(begun).to.deep.equal(['a', 'b', 'c', 'task-an-untagged-task-is-a-phase-of-its-own']);
    expect(done).to.include.members(['a:10.0.0.1:2', 'a:10.0.0.3:2', 'b:10.0.0.2:1', 'c:localhost:1']);
    expect(done).not.to.include('a:10.0.0.2:2');
    expect(network.commandsOn('10.0.0.2')).to.deep.equal(['echo b 10.0.0.2', 'echo d 10.0.0.2']);
    expect(run.phases[0]!.skipped).to.deep.equal(['10.0.0.2']);
  });

  it('a failing host stops at its failed task; the others finish the phase; no later phase runs, unless the policy keeps it', async () => {
    const fail: Script = (command) => (command === 'echo a1 10.0.0.2' ? { exitCode: 1, stderr: 'boom' } : undefined);
    const stopped = await phased({}, fail);
    expect(stopped.run.failed?.id).to.equal('a');
    expect(stopped.run.failed?.failures.get('10.0.0.2')).to.match(/^first of phase a: non-zero return code/);
    expect(stopped.network.commandsOn('10.0.0.2')).to.deep.equal(['echo a1 10.0.0.2']);
    expect(stopped.network.commandsOn('10.0.0.1')).to.deep.equal(['echo a1 10.0.0.1', 'echo a2 10.0.0.1']);
    expect(stopped.run.phases.map((p) => p.id)).to.deep.equal(['a']);
    expect(stopped.summary.exitCode).to.equal(3);

    const kept = await phased(
      { runsAfterFailure: (phase, failed) => phase === 'task-an-untagged-task-is-a-phase-of-its-own' && failed === 'a' },
      fail,
    );
    expect(kept.run.phases.map((p) => p.id)).to.deep.equal(['a', 'task-an-untagged-task-is-a-phase-of-its-own']);
    expect(kept.network.commandsOn('10.0.0.1')).to.deep.equal(['echo a1 10.0.0.1', 'echo a2 10.0.0.1', 'echo d 10.0.0.1']);
  });

  it('runs waves one after the other (the followers, then the leader), but never in a dry-run', async () => {
    const { network } = await phased({
      waves: (phase, h) => (phase === 'b' ? Promise.resolve([h.filter((x) => x !== '10.0.0.1'), ['10.0.0.1']]) : undefined),
    });
    const bs = network.log.filter((e) => e.text.startsWith('echo b')).map((e) => e.host);
    expect(bs.at(-1)).to.equal('10.0.0.1');
    let asked = false;
    await phased(
      {
        waves: () => {
          asked = true;
          return undefined;
        },
      },
      undefined,
      { dryRun: true },
    );
    expect(asked).to.equal(false);
  });

  it('an interrupt starts no new task; an interruptible phase cancels its running command, another lets it finish', async () => {
    for (const interruptible of [true, false]) {
      const controller = new AbortController();
      let sawSignal: boolean | undefined;
      const script: Script = (command, _host, options) => {
        if (command === 'echo a1 10.0.0.1') {
          controller.abort();
          // What the running command would see: aborted only where the phase may be cut short.
          sawSignal = options.signal?.aborted === true;
        }
        return undefined;
      };
      const { network, run, summary } = await phased({ interruptible: () => interruptible }, script, { signal: controller.signal });
      expect(sawSignal, `interruptible ${interruptible}`).to.equal(interruptible);
      expect(run.interrupted).to.equal(true);
      expect(summary.exitCode).to.equal(130);
      expect(network.log.some((e) => e.text.startsWith('echo b'))).to.equal(false);
      expect(network.commandsOn('10.0.0.1')).to.deep.equal(['echo a1 10.0.0.1']);
    }
  });

  it('reports each phase and each task as events, in order', async () => {
    const { events } = await phased({});
    expect(events[0]).to.include({ type: 'phase-start', phase: 'a', title: 'first of phase a' });
    expect(events.filter((e) => e.type === 'task' && e.phase === 'a')).to.have.length(6);
    expect(events.filter((e) => e.type === 'phase-end').map((e) => e.phase)).to.deep.equal([
      'a',
      'b',
      'c',
      'task-an-untagged-task-is-a-phase-of-its-own',
    ]);
  });
});
