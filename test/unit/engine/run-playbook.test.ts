import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { runPlaybook } from '../../../src/engine/index.js';
import type { RunPlaybookOptions, RunSummary } from '../../../src/engine/types.js';
import { ConfigError } from '../../../src/errors.js';
import { allModules } from '../../../src/modules/all.js';
import { defineModule } from '../../../src/modules/define.js';
import { createRegistry } from '../../../src/modules/registry.js';
import { fakeNetwork, files, RecordingReporter, threeHosts, type FakeNetwork } from './fakes.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function run(
  playbook: string,
  network: FakeNetwork = fakeNetwork(),
  options: Partial<RunPlaybookOptions> = {},
  inventory = threeHosts,
): Promise<{ summary: RunSummary; reporter: RecordingReporter; network: FakeNetwork }> {
  const paths = files(inventory, playbook);
  dirs.push(paths.dir);
  const reporter = new RecordingReporter();
  const summary = await runPlaybook({
    inventory: paths.inventory,
    playbook: paths.playbook,
    reporter,
    openTransports: network.openTransports,
    ...options,
  });
  return { summary, reporter, network };
}

function msgs(reporter: RecordingReporter, task: string): Record<string, unknown> {
  return Object.fromEntries(
    reporter
      .of('host_result')
      .filter((e) => e.task === task)
      .map((e) => [e.result.host, e.result.display.msg]),
  );
}

describe('engine: variables', () => {
  it('precedence: role defaults < inventory (host > group > all) < play vars < task vars < facts < extra vars', async () => {
    const { reporter } = await run(
      `
- hosts: etcd
  gather_facts: false
  vars:
    from_play: play
  tasks:
    - name: inventory
      debug: { msg: "{{ where }}" }
    - name: play over inventory
      debug: { msg: "{{ from_play }}" }
      vars: {}
    - name: task vars over play vars
      debug: { msg: "{{ from_play }}" }
      vars: { from_play: task }
    - set_fact: { from_play: fact }
    - name: fact over task vars
      debug: { msg: "{{ from_play }}" }
      vars: { from_play: task }
    - name: extra vars win
      debug: { msg: "{{ top }}" }
      vars: { top: task }
`,
      fakeNetwork(),
      { extraVars: { top: 'extra' } },
    );
    expect(msgs(reporter, 'inventory')).to.deep.equal({ '10.0.0.1': 'inventory-host', '10.0.0.2': 'inventory-group', '10.0.0.3': 'inventory-group' });
    expect(msgs(reporter, 'play over inventory')['10.0.0.2']).to.equal('play');
    expect(msgs(reporter, 'task vars over play vars')['10.0.0.2']).to.equal('task');
    expect(msgs(reporter, 'fact over task vars')['10.0.0.2']).to.equal('fact');
    expect(msgs(reporter, 'extra vars win')['10.0.0.2']).to.equal('extra');
  });

  it('magic variables and lazily templated inventory vars', async () => {
    const inventory = `
all:
  vars:
    base_dir: /etc/kubeasz
    cluster_dir: "{{ base_dir }}/clusters/{{ inventory_hostname }}"
  children:
    etcd:
      hosts: { 10.0.0.1: {}, 10.0.0.2: {} }
    kube_master:
      hosts: { 10.0.0.1: {} }
`;
    const { reporter } = await run(
      `
- hosts: etcd
  gather_facts: false
  tasks:
    - name: magic
      debug:
        msg: "{{ inventory_hostname }} {{ group_names | join(',') }} {{ groups['etcd'] | length }} {{ play_hosts | length }} {{ hostvars['10.0.0.2'].cluster_dir }} {{ ansible_check_mode }}"
`,
      fakeNetwork(),
      {},
      inventory,
    );
    expect(msgs(reporter, 'magic')).to.deep.equal({
      '10.0.0.1': '10.0.0.1 etcd,kube_master 2 2 /etc/kubeasz/clusters/10.0.0.2 False',
      '10.0.0.2': '10.0.0.2 etcd 2 2 /etc/kubeasz/clusters/10.0.0.2 False',
    });
  });

  it('an undefined variable is a ConfigError with file:line before any connection is opened', async () => {
    const network = fakeNetwork();
    let error: unknown;
    try {
      await run(
        `
- hosts: etcd
  gather_facts: false
  tasks:
    - name: fine
      shell: echo ok
    - name: broken
      shell: echo {{ etcd_endpointz }}
`,
        network,
      );
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const problem = (error as ConfigError).problems[0]!;
    expect(problem.code).to.equal('template.undefined-variable');
    expect(problem.message).to.contain('etcd_endpointz');
    expect(problem.message).to.contain('broken');
    expect(problem.loc?.line).to.equal(7);
    expect(problem.lineText).to.contain('- name: broken');
    expect(network.opened).to.deep.equal([]);
    expect(network.log).to.deep.equal([]);
  });

  it('registered and set_fact names are known to the pre-check; one used before it is set is reported', async () => {
    await run(`
- hosts: etcd
  gather_facts: false
  tasks:
    - shell: echo 1
      register: first
    - set_fact: { doubled: "{{ first.stdout }}{{ first.stdout }}" }
    - shell: echo {{ doubled }} {{ first.rc }}
`);
    let error: unknown;
    try {
      await run(`
- hosts: etcd
  gather_facts: false
  tasks:
    - shell: echo {{ later.stdout }}
    - shell: echo 1
      register: later
`);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).problems[0]?.hint).to.contain('is set by the task at line 6');
  });

  it('bad module arguments after templating are reported before anything runs', async () => {
    const network = fakeNetwork();
    let error: unknown;
    try {
      await run(
        `
- hosts: etcd
  gather_facts: false
  vars: { svc_state: running }
  tasks:
    - service: { name: etcd, state: "{{ svc_state }}" }
`,
        network,
      );
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).problems[0]?.message).to.match(/state must be one of/);
    expect(network.opened).to.deep.equal([]);
  });
  it('other problems found before anything runs: unknown delegate, an ambiguous mode, a fact never gathered', async () => {
    const network = fakeNetwork();
    let error: unknown;
    try {
      await run(
        `
- hosts: etcd
  gather_facts: false
  tasks:
    - command: hostname
      delegate_to: 10.9.9.9
    - file: { path: /etc/x, mode: "{{ file_mode }}" }
    - shell: echo {{ ansible_hostname }}
`,
        network,
        { extraVars: { file_mode: 644 } },
      );
    } catch (e) {
      error = e;
    }
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => [p.code, p.loc?.line])).to.deep.equal([
      ['task.unknown-delegate', 5],
      ['task.invalid-args', 7],
      ['template.undefined-variable', 8],
    ]);
    expect(problems[1]?.message).to.contain("'0644'");
    expect(problems[2]?.hint).to.contain('does not gather facts');
    expect(network.opened).to.deep.equal([]);
  });
});

describe('engine: tasks', () => {
  it('when, loop, register: results per item, skipped items and hosts', async () => {
    const { summary, reporter } = await run(
      `
- hosts: etcd
  gather_facts: false
  tasks:
    - name: loop
      shell: echo {{ item }}
      loop: [a, b, c]
      when: item != 'b'
      register: looped
    - name: only first
      shell: echo first
      when: inventory_hostname == groups['etcd'][0]
`,
      fakeNetwork((command) => ({ stdout: `${command.split(' ')[1]}\n` })),
    );
    const looped = summary.hostFacts['10.0.0.1']?.looped as { results: Record<string, unknown>[]; changed: boolean };
    expect(looped.results.map((r) => [r.item, r.stdout ?? null, r.skipped ?? false])).to.deep.equal([
      ['a', 'a', false],
      ['b', null, true],
      ['c', 'c', false],
    ]);
    expect(looped.changed).to.equal(true);
    const first = reporter
      .of('host_result')
      .filter((e) => e.task === 'only first')
      .map((e) => [e.result.host, e.result.status])
      .sort();
    expect(first).to.deep.equal([
      ['10.0.0.1', 'changed'],
      ['10.0.0.2', 'skipped'],
      ['10.0.0.3', 'skipped'],
    ]);
  });

  it('set_fact in a loop over groups sees the facts of the previous items (kubeasz endpoints)', async () => {
    const { summary } = await run(`
- hosts: etcd
  gather_facts: false
  tasks:
    - set_fact: ETCD_NODES="{{ ETCD_NODES | default('') }}https://{{ item }}:2379,"
      with_items: "{{ groups['etcd'] }}"
    - set_fact: ETCD_NODES="{{ ETCD_NODES | regex_replace(',$', '') }}"
`);
    expect(summary.hostFacts['10.0.0.2']?.ETCD_NODES).to.equal('https://10.0.0.1:2379,https://10.0.0.2:2379,https://10.0.0.3:2379');
  });

  it('until/retries/delay: retried until the condition holds, with retry events', async () => {
    let calls = 0;
    const { summary, reporter } = await run(
      `
- hosts: 10.0.0.1
  gather_facts: false
  tasks:
    - name: wait healthy
      shell: etcdctl endpoint health
      register: health
      until: "'is healthy' in health.stdout"
      retries: 5
      delay: 0
`,
      fakeNetwork(() => (++calls < 3 ? { exitCode: 1, stdout: 'unhealthy' } : { stdout: '127.0.0.1 is healthy' })),
    );
    expect(calls).to.equal(3);
    expect((summary.hostFacts['10.0.0.1']?.health as Record<string, unknown>).attempts).to.equal(3);
    expect(reporter.of('host_retry').map((e) => e.retriesLeft)).to.deep.equal([5, 4]);
    expect(summary.exitCode).to.equal(0);
  });

  it('until exhausted: the task fails after retries + 1 attempts', async () => {
    let calls = 0;
    const { summary, reporter } = await run(
      `
- hosts: 10.0.0.1
  gather_facts: false
  tasks:
    - name: never
      shell: "false"
      register: r
      until: r.rc == 0
      retries: 2
      delay: 0
`,
      fakeNetwork(() => {
        calls++;
        return { exitCode: 1 };
      }),
    );
    expect(calls).to.equal(3);
    const result = reporter.of('host_result')[0]!.result;
    expect(result.status).to.equal('failed');
    expect(summary.exitCode).to.equal(3);
  });

  it('run_once + delegate_to localhost: one command on the deploy host, the result registered on every host', async () => {
    const network = fakeNetwork((command, host) => ({ stdout: `${host}:${command}` }));
    const { summary, reporter } = await run(
      `
- hosts: etcd
  gather_facts: false
  tasks:
    - name: local once
      command: date
      run_once: true
      delegate_to: localhost
      register: stamp
    - name: delegate to the first member
      command: hostname
      delegate_to: "{{ groups['etcd'][0] }}"
      register: where
`,
      network,
    );
    expect(network.commandsOn('localhost')).to.deep.equal(['date']);
    for (const host of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      expect((summary.hostFacts[host]?.stamp as Record<string, unknown>).stdout).to.equal('localhost:date');
      expect((summary.hostFacts[host]?.where as Record<string, unknown>).stdout).to.equal('10.0.0.1:hostname');
    }
    expect(network.commandsOn('10.0.0.1')).to.deep.equal(['hostname', 'hostname', 'hostname']);
    expect(network.commandsOn('10.0.0.2')).to.deep.equal([]);
    const once = reporter
      .of('host_result')
      .filter((e) => e.task === 'local once')
      .map((e) => e.result.runOnceFrom ?? e.result.delegatedTo);
    expect(once).to.deep.equal(['localhost', '10.0.0.1', '10.0.0.1']);
  });

  it('connections: opened once, in parallel, only for hosts that run steps, and closed at the end', async () => {
    const network = fakeNetwork();
    await run(
      `
- hosts: etcd
  gather_facts: false
  tasks:
    - debug: { msg: local only }
    - shell: echo hi
      when: inventory_hostname != '10.0.0.3'
`,
      network,
    );
    expect(network.opened).to.deep.equal([['10.0.0.1', '10.0.0.2']]);
    expect([...network.transports.values()].every((t) => t.closed)).to.equal(true);
  });

  it('ignore_errors keeps the host; a failure without it removes the host from the rest of the run', async () => {
    const network = fakeNetwork((command) => (command.startsWith('fail') ? { exitCode: 1, stderr: 'boom' } : undefined));
    const { summary, reporter } = await run(
      `
- hosts: etcd
  gather_facts: false
  tasks:
    - name: tolerated
      command: fail-here
      ignore_errors: true
    - name: fatal on one host
      command: "{{ 'fail-now' if inventory_hostname == '10.0.0.2' else 'true' }}"
    - name: after
      command: echo after
- hosts: etcd
  gather_facts: false
  tasks:
    - name: next play
      command: echo next
`,
      network,
    );
    expect(network.commandsOn('10.0.0.2')).to.deep.equal(['fail-here', 'fail-now']);
    expect(network.commandsOn('10.0.0.1')).to.deep.equal(['fail-here', 'true', 'echo after', 'echo next']);
    expect(summary.stats['10.0.0.2']).to.deep.include({ failed: 1, ignored: 1 });
    expect(summary.stats['10.0.0.1']).to.deep.include({ failed: 0, ignored: 1, changed: 3 });
    expect(summary.exitCode).to.equal(3);
    const failed = reporter.of('host_result').find((e) => e.task === 'fatal on one host' && e.result.host === '10.0.0.2')!.result;
    expect(failed.status).to.equal('failed');
    expect(failed.display.stderrTail).to.equal('boom');
  });

  it('failed_when and changed_when see the registered result', async () => {
    const network = fakeNetwork((command) => (command.includes('grep') ? { exitCode: 1, stdout: '' } : { stdout: 'ERROR: disk full' }));
    const { summary, reporter } = await run(
      `
- hosts: 10.0.0.1
  gather_facts: false
  tasks:
    - name: grep finds nothing, which is fine
      shell: grep x /etc/y
      register: g
      failed_when: g.rc > 1
      changed_when: false
    - name: output says failure
      shell: do-it
      register: d
      failed_when: "'ERROR' in d.stdout"
`,
      network,
    );
    const [first, second] = reporter.of('host_result').map((e) => e.result);
    expect(first?.status).to.equal('ok');
    expect(second?.status).to.equal('failed');
    expect(summary.exitCode).to.equal(3);
  });

  it('an unreachable host is reported as such, the others go on, exit code 4', async () => {
    const network = fakeNetwork(() => undefined, { unreachable: ['10.0.0.3'] });
    const { summary, reporter } = await run(
      `
- hosts: etcd
  gather_facts: false
  tasks:
    - shell: echo one
    - shell: echo two
`,
      network,
    );
    const results = reporter.of('host_result').map((e) => [e.result.host, e.result.status]);
    expect(results.filter(([h]) => h === '10.0.0.3')).to.deep.equal([['10.0.0.3', 'unreachable']]);
    expect(network.commandsOn('10.0.0.1')).to.deep.equal(['echo one', 'echo two']);
    expect(summary.stats['10.0.0.3']?.unreachable).to.equal(1);
    expect(summary.exitCode).to.equal(4);
    const failure = reporter.of('host_result').find((e) => e.result.host === '10.0.0.3')!.result;
    expect(failure.status === 'unreachable' && failure.msg).to.contain('ECONNREFUSED');
  });

  it('--forks bounds how many hosts work at once; serial runs batches one after the other', async () => {
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    const network = fakeNetwork(async (command, host) => {
      running++;
      peak = Math.max(peak, running);
      order.push(`${host}:${command}`);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      return undefined;
    });
    await run(
      `
- hosts: etcd
  gather_facts: false
  tasks:
    - command: a
`,
      network,
      { forks: 2 },
    );
    expect(peak).to.equal(2);
    order.length = 0;
    await run(
      `
- hosts: etcd
  gather_facts: false
  serial: 2
  tasks:
    - command: a
    - command: b
`,
      network,
    );
    expect(order.slice(4)).to.deep.equal(['10.0.0.3:a', '10.0.0.3:b']);
    expect(order.slice(0, 4).sort()).to.deep.equal(['10.0.0.1:a', '10.0.0.1:b', '10.0.0.2:a', '10.0.0.2:b']);
  });

  it('--tags and --skip-tags, with always and never', async () => {
    const playbook = `
- hosts: 10.0.0.1
  gather_facts: false
  tasks:
    - { command: backup, tags: [backup] }
    - { command: restore, tags: [restore] }
    - { command: always, tags: [always] }
    - { command: never, tags: [never, debug] }
    - { command: untagged }
`;
    const a = await run(playbook, fakeNetwork(), { tags: ['backup'] });
    expect(a.network.commandsOn('10.0.0.1')).to.deep.equal(['backup', 'always']);
    const b = await run(playbook, fakeNetwork(), { skipTags: ['restore'] });
    expect(b.network.commandsOn('10.0.0.1')).to.deep.equal(['backup', 'always', 'untagged']);
    const c = await run(playbook, fakeNetwork(), { tags: ['debug'] });
    expect(c.network.commandsOn('10.0.0.1')).to.deep.equal(['always', 'never']);
  });

  it('--limit narrows every play', async () => {
    const { network } = await run(
      `
- hosts: etcd
  gather_facts: false
  tasks:
    - command: x
`,
      fakeNetwork(),
      { limit: '10.0.0.2' },
    );
    expect(network.log.map((e) => e.host)).to.deep.equal(['10.0.0.2']);
  });

  it('become: from the task, the play, or the inventory', async () => {
    const { network } = await run(`
- hosts: 10.0.0.1
  gather_facts: false
  become: true
  tasks:
    - command: as-root
    - command: as-user
      become: false
`);
    expect(network.log.map((e) => [e.text, e.become ?? false])).to.deep.equal([
      ['as-root', true],
      ['as-user', false],
    ]);
  });

  it('an abort stops before the next task and the summary says interrupted (exit 130)', async () => {
    const controller = new AbortController();
    const network = fakeNetwork(async (command) => {
      if (command === 'slow') {
        controller.abort();
        await new Promise((r) => setTimeout(r, 5));
      }
      return undefined;
    });
    const { summary } = await run(
      `
- hosts: etcd
  gather_facts: false
  tasks:
    - command: slow
    - command: never-started
`,
      network,
      { signal: controller.signal },
    );
    expect(network.log.map((e) => e.text)).to.not.include('never-started');
    expect(summary.interrupted).to.equal(true);
    expect(summary.exitCode).to.equal(130);
  });
});

describe('engine: quoting', () => {
  const hostile = `a'b "c" $(touch /tmp/orchestrate-pwned) \`id\`; rm -rf / #
next line`;

  it('a templated value reaches the shell as one word, whatever it contains', async () => {
    const network = fakeNetwork(() => undefined, { shell: true });
    const { summary } = await run(
      `
- hosts: 10.0.0.1
  gather_facts: false
  tasks:
    - shell: printf '%s|' {{ value }}
      register: shell_out
    - command: printf '%s|' {{ value }}
      register: command_out
`,
      network,
      { extraVars: { value: hostile } },
    );
    expect((summary.hostFacts['10.0.0.1']?.shell_out as Record<string, unknown>).stdout).to.equal(`${hostile}|`);
    expect((summary.hostFacts['10.0.0.1']?.command_out as Record<string, unknown>).stdout).to.equal(`${hostile}|`);
  });
});

describe('engine: dry-run', () => {
  it('runs read-only checks, only plans the rest, and shows run-time values as deferred', async () => {
    const network = fakeNetwork((command) => (command.startsWith('systemctl is-active') ? { exitCode: 0, stdout: 'active' } : undefined));
    const { summary, reporter } = await run(
      `
- hosts: etcd
  gather_facts: false
  vars:
    etcd_password: s3cr3t-pass
  tasks:
    - name: keep etcd running
      service: { name: etcd, state: started }
    - name: snapshot
      shell: etcdctl snapshot save /tmp/snap.db --password {{ etcd_password }}
      register: snap
    - name: use the result
      shell: echo {{ snap.stdout }}
    - name: write
      copy: { content: hello, dest: /etc/x }
`,
      network,
      { dryRun: true },
    );
    expect(network.log.map((e) => e.text).every((t) => t.startsWith('systemctl is-active') || t.startsWith('stat '))).to.equal(true);
    const plan = summary.plan!.find((p) => p.host === '10.0.0.1')!;
    expect(plan.tasks.map((t) => [t.task, t.status, t.planned])).to.deep.equal([
      ['keep etcd running', 'ok', false],
      ['snapshot', 'changed', true],
      ['use the result', 'changed', true],
      ['write', 'changed', true],
    ]);
    expect(plan.tasks[0]!.steps).to.deep.include({ kind: 'exec', text: 'systemctl is-active etcd', readOnly: true, ran: true, on: '10.0.0.1' });
    expect(plan.tasks[1]!.steps[0]).to.include({ text: 'etcdctl snapshot save /tmp/snap.db --password ********', ran: false });
    expect(plan.tasks[2]!.steps[0]!.text).to.equal('echo <deferred: snap.stdout>');
    expect(plan.tasks[3]!.steps.map((s) => [s.text, s.ran])).to.deep.equal([
      ["stat -c '%a %U %G' -- /etc/x && sha256sum -- /etc/x", true],
      ['upload content (5 bytes) -> 10.0.0.1:/etc/x (mode 0644)', false],
    ]);
    expect(network.log.filter((e) => e.kind !== 'exec')).to.deep.equal([]);
    expect(JSON.stringify(reporter.events)).to.not.contain('s3cr3t-pass');
    expect(summary.exitCode).to.equal(0);
  });

  it('a condition on a run-time value plans the task and says what it depends on', async () => {
    const { summary } = await run(
      `
- hosts: 10.0.0.1
  gather_facts: false
  tasks:
    - command: etcdctl endpoint health
      register: health
      ignore_errors: true
    - name: restart when unhealthy
      service: { name: etcd, state: restarted }
      when: health.rc != 0
`,
      fakeNetwork(),
      { dryRun: true },
    );
    const task = summary.plan![0]!.tasks[1]!;
    expect(task.planned).to.equal(true);
    expect(task.note).to.contain('health.rc != 0');
  });

  it('a delegate chosen at run time: planned against its placeholder in a dry-run, connected on first use in a run', async () => {
    const playbook = `
- hosts: etcd
  gather_facts: false
  tasks:
    - command: pick-a-member
      register: pick
      run_once: true
    - set_fact: { leader: "{{ pick.stdout }}" }
    - name: on the leader
      command: etcdctl snapshot save /tmp/s.db
      delegate_to: "{{ leader }}"
      run_once: true
`;
    const dry = await run(
      playbook,
      fakeNetwork(() => ({ stdout: '10.0.0.3' })),
      { dryRun: true },
    );
    const step = dry.summary.plan![0]!.tasks[2]!.steps[0]!;
    expect(step).to.include({ text: 'etcdctl snapshot save /tmp/s.db', ran: false, on: '<deferred: pick.stdout>' });
    expect(dry.network.log).to.deep.equal([]);

    const real = await run(
      playbook,
      fakeNetwork(() => ({ stdout: '10.0.0.3' })),
    );
    expect(real.network.commandsOn('10.0.0.3')).to.deep.equal(['etcdctl snapshot save /tmp/s.db']);
    // Known before the run: 10.0.0.1 (run_once); the delegate is connected when first needed.
    expect(real.network.opened).to.deep.equal([['10.0.0.1'], ['10.0.0.3']]);
    expect(real.summary.exitCode).to.equal(0);
  });

  it('secrets are masked in plans and results, templated ones and step-declared ones too', async () => {
    const { reporter, summary } = await run(
      `
- hosts: 10.0.0.1
  gather_facts: false
  vars:
    prefix: hunter2
    etcd_secret: "{{ prefix }}-tail"
  tasks:
    - shell: echo {{ etcd_secret }}
      ignore_errors: true
`,
      fakeNetwork((command) => ({ exitCode: 1, stderr: `bad ${command}` })),
      { dryRun: false },
    );
    const result = reporter.of('host_result')[0]!.result;
    expect(result.steps[0]!.text).to.equal('echo ********');
    expect(result.display.stderrTail).to.equal('bad echo ********');
    expect(summary.exitCode).to.equal(0);
  });

  it('a module can declare secrets for its steps; secret uploads show only their size', async () => {
    const login = defineModule({
      id: 'test.login',
      meta: { runsOn: 'host' },
      schema: { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] },
      async *plan(_ctx, args) {
        yield { kind: 'exec', command: `login --token ${args.token}`, secrets: [args.token] };
        yield { kind: 'upload', source: { content: `token=${args.token}` }, dest: '/etc/token', mode: 0o600, secret: true };
        return { changed: true };
      },
    });
    const catalog = createRegistry([...allModules, login]);
    const { summary } = await run(
      `
- hosts: 10.0.0.1
  gather_facts: false
  tasks:
    - test.login: { token: abcd-1234-efgh }
`,
      fakeNetwork(),
      { dryRun: true, catalog },
    );
    expect(summary.plan![0]!.tasks[0]!.steps.map((step) => step.text)).to.deep.equal([
      'login --token ********',
      'upload secret content (20 bytes) -> 10.0.0.1:/etc/token (mode 0600)',
    ]);
  });
});
