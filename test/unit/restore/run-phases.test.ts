import { expect } from 'chai';
import type { Inventory, InventoryHost } from '../../../src/config/types.js';
import { defineModule } from '../../../src/modules/define.js';
import { asExec, checkStep, execStep } from '../../../src/modules/helpers.js';
import type { RestoreJournal } from '../../../src/restore/journal.js';
import type { PlannedPhase } from '../../../src/restore/plan-types.js';
import { shouldRunRestorePhase } from '../../../src/restore/restore-run.js';
import { runPhase, type PhaseRunContext, type RestoreEvent } from '../../../src/restore/run-phases.js';
import { FakeTransport, type RecordedCall } from './fake-transport.js';

// A module that checks (read-only), then changes, and fails when the change says so.
const probeThenChange = defineModule<{ name: string }>({
  id: 'test.probe-then-change',
  schema: {},
  async *plan(ctx, args) {
    const probe = asExec(yield checkStep(`probe ${args.name}`));
    const change = asExec(yield execStep(`change ${args.name} after ${probe?.stdout ?? '<not run>'}`));
    if (change && change.exitCode !== 0) return { changed: true, failed: true, msg: change.stderr };
    return { changed: true, result: { host: ctx.host.name } };
  },
});

const hosts = ['h1', 'h2', 'h3'];
const inventory: Inventory = {
  file: '/i.yml',
  dir: '/',
  hosts: new Map<string, InventoryHost>(hosts.map((h) => [h, { name: h, vars: {}, groups: ['all'] }])),
  groups: new Map([['all', hosts]]),
};

function context(
  calls: RecordedCall[],
  overrides: Partial<PhaseRunContext> = {},
  failOn?: string,
): { ctx: PhaseRunContext; events: RestoreEvent[]; done: string[] } {
  const events: RestoreEvent[] = [];
  const done: string[] = [];
  const transports = new Map(
    hosts.map((h) => [
      h,
      new FakeTransport(h, calls, (host, command) =>
        command.startsWith('change') && host === failOn ? { exitCode: 1, stderr: `boom on ${host}` } : { stdout: `seen-${host}` },
      ),
    ]),
  );
  const ctx: PhaseRunContext = {
    inventory,
    transports,
    dryRun: false,
    signal: new AbortController().signal,
    interruptible: new Set(),
    shouldRun: () => true,
    onBegin: async () => undefined,
    onHostDone: async (phase, host) => {
      done.push(`${phase}:${host}`);
    },
    emit: (event) => events.push(event),
    ...overrides,
  };
  return { ctx, events, done };
}

const phase = (id: string, actions = 2): PlannedPhase => ({
  id,
  title: id,
  hosts: new Map(
    hosts.map((h) => [
      h,
      Array.from({ length: actions }, (_, i) => ({ title: `${id} ${i}`, module: probeThenChange, args: { name: `${id}-${i}` } })),
    ]),
  ),
});

describe('runPhase', () => {
  it('feeds each step its result, runs every host, and reports the host done', async () => {
    const calls: RecordedCall[] = [];
    const { ctx, done } = context(calls);
    const outcome = await runPhase(phase('p', 1), ctx);
    expect(outcome.failures.size).to.equal(0);
    expect(done.sort()).to.deep.equal(['p:h1', 'p:h2', 'p:h3']);
    expect(calls.filter((c) => c.host === 'h2').map((c) => c.text)).to.deep.equal(['probe p-0', 'change p-0 after seen-h2']);
    expect(outcome.outcomes.get('h3')?.[0]?.result).to.deep.equal({ host: 'h3' });
  });

  it('stops a failing host at its failed action, lets the others finish, and does not report it done', async () => {
    const calls: RecordedCall[] = [];
    const { ctx, done, events } = context(calls, {}, 'h2');
    const outcome = await runPhase(phase('p', 2), ctx);
    expect([...outcome.failures.keys()]).to.deep.equal(['h2']);
    expect(outcome.failures.get('h2')).to.equal('p 0: boom on h2');
    expect(calls.filter((c) => c.host === 'h2')).to.have.length(2);
    expect(calls.filter((c) => c.host === 'h1')).to.have.length(4);
    expect(done.sort()).to.deep.equal(['p:h1', 'p:h3']);
    expect(events.some((e) => e.type === 'step' && !e.ok && e.host === 'h2')).to.equal(true);
  });

  it('in preview mode runs only read-only steps and feeds undefined to the rest', async () => {
    const calls: RecordedCall[] = [];
    const { ctx, done } = context(calls, { dryRun: true, onHostDone: async () => undefined });
    const outcome = await runPhase(phase('p', 1), ctx);
    expect(calls.map((c) => c.text).sort()).to.deep.equal(['probe p-0', 'probe p-0', 'probe p-0']);
    expect(outcome.steps.get('h1')).to.deep.equal([{ title: 'p 0', steps: ['$ probe p-0', '$ change p-0 after seen-h1'] }]);
    expect(done).to.deep.equal([]);
  });

  it('runs waves one after the other (etcd: the followers, then the leader), but not in the preview', async () => {
    const calls: RecordedCall[] = [];
    const { ctx } = context(calls);
    await runPhase({ ...phase('p', 1), waves: async (all) => [all.filter((h) => h !== 'h1'), ['h1']] }, ctx);
    const lastOfOthers = Math.max(...calls.filter((c) => c.host !== 'h1').map((c) => c.at));
    expect(Math.min(...calls.filter((c) => c.host === 'h1').map((c) => c.at))).to.be.greaterThan(lastOfOthers);
    let asked = false;
    const preview = context([], { dryRun: true }).ctx;
    await runPhase({ ...phase('p', 1), waves: async (all) => ((asked = true), [all]) }, preview);
    expect(asked).to.equal(false);
  });

  it('skips hosts the journal says are done', async () => {
    const calls: RecordedCall[] = [];
    const { ctx } = context(calls, { shouldRun: (_p, host) => host !== 'h1' });
    const outcome = await runPhase(phase('p', 1), ctx);
    expect(outcome.skipped).to.deep.equal(['h1']);
    expect(calls.some((c) => c.host === 'h1')).to.equal(false);
  });

  it('starts no new action after an interruption', async () => {
    const calls: RecordedCall[] = [];
    const controller = new AbortController();
    controller.abort();
    const { ctx } = context(calls, { signal: controller.signal });
    const outcome = await runPhase(phase('p', 1), ctx);
    expect(calls).to.deep.equal([]);
    expect(outcome.failures.get('h1')).to.contain('interrupted');
  });
});

describe('what a re-run does after an interruption', () => {
  const journal = (begun: RestoreJournal['begun'], done: RestoreJournal['done']): RestoreJournal => ({ begun, done }) as unknown as RestoreJournal;
  const cases: { title: string; journal: RestoreJournal; phase: Parameters<typeof shouldRunRestorePhase>[1]; host: string; run: boolean }[] = [
    {
      title: 'a copy already done on the host is skipped',
      journal: journal(['copy-snapshot'], { h1: ['copy-snapshot'] }),
      phase: 'copy-snapshot',
      host: 'h1',
      run: false,
    },
    {
      title: 'a copy not done on the host runs',
      journal: journal(['copy-snapshot'], { h1: ['copy-snapshot'] }),
      phase: 'copy-snapshot',
      host: 'h2',
      run: true,
    },
    {
      title: 'stops are redone until etcd was started on the new data',
      journal: journal(['stop-etcd', 'swap-data'], { h1: ['stop-etcd', 'swap-data'] }),
      phase: 'stop-etcd',
      host: 'h1',
      run: true,
    },
    {
      title: 'stops are not redone once etcd started on the new data',
      journal: journal(['stop-etcd', 'swap-data', 'start-etcd'], {}),
      phase: 'stop-kube-master',
      host: 'h1',
      run: false,
    },
    {
      title: 'a swap done on the host is not redone',
      journal: journal(['swap-data'], { h1: ['swap-data'] }),
      phase: 'swap-data',
      host: 'h1',
      run: false,
    },
    {
      title: 'etcd is started again until the cluster was verified',
      journal: journal(['start-etcd'], { h1: ['start-etcd'] }),
      phase: 'start-etcd',
      host: 'h1',
      run: true,
    },
    {
      title: 'etcd is not restarted after verification',
      journal: journal(['start-etcd', 'verify-cluster'], { localhost: ['verify-cluster'] }),
      phase: 'start-etcd',
      host: 'h1',
      run: false,
    },
  ];
  for (const c of cases) {
    it(c.title, () => expect(shouldRunRestorePhase(c.journal, c.phase, c.host)).to.equal(c.run));
  }
});
