import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadPlaybook } from '../../../src/config/playbook.js';
import { normalizeConditions, normalizeTags } from '../../../src/config/playbook-tasks.js';
import { moduleValidator } from '../../../src/config/schema-validation.js';
import type { Playbook } from '../../../src/config/types.js';
import { ConfigError } from '../../../src/errors.js';
import { fakeCatalog } from './fake-catalog.js';

const GOOD = 'test/fixtures/config/good';

/** Writes files under a fresh temporary folder; returns the folder. */
function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'orchestrate-config-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

async function problemsOf(file: string): Promise<string[]> {
  try {
    await loadPlaybook(file, fakeCatalog);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.severity} ${p.code} ${p.loc?.line}:${p.loc?.col}`);
    throw error;
  }
  return [];
}

describe('loadPlaybook: kubeasz backup shape', () => {
  let playbook: Playbook;
  before(async () => {
    playbook = await loadPlaybook(`${GOOD}/backup.yml`, fakeCatalog);
  });

  it('reads the play', () => {
    const [play] = playbook.plays;
    expect(playbook.plays).to.have.length(1);
    expect(play?.hosts).to.equal('localhost');
    expect(play?.gatherFacts).to.equal(false);
    expect(play?.tasks.map((t) => t.module)).to.deep.equal(['set_fact', 'shell', 'debug', 'shell', 'shell', 'shell', 'file']);
    expect(playbook.warnings).to.deep.equal([]);
  });

  it('turns key=value strings into arguments and free-form strings into the free-form argument', () => {
    const tasks = playbook.plays[0]!.tasks;
    expect(tasks[0]?.args).to.deep.equal({ NODE_IPS: "{% for host in groups['etcd'] %}{{ host }} {% endfor %}" });
    expect(tasks[2]?.args).to.deep.equal({ var: 'ETCD_CLUSTER_STATUS' });
    expect(tasks[4]?.args).to.deep.equal({ cmd: "date +'%Y%m%d%H%M'" }); // ansible.builtin.shell -> shell
  });

  it('merges args: under the free-form command and keeps the task keywords', () => {
    const task = playbook.plays[0]!.tasks[5]!;
    expect(task.args).to.deep.equal({
      chdir: '/tmp',
      cmd: 'mkdir -p {{ backup_dir }} && ETCDCTL_API=3 etcdctl --endpoints=https://{{ RUNNING_NODE.stdout }}:2379 snapshot save snapshot_{{ timestamp.stdout }}.db',
    });
    expect(task).to.include({ name: 'make a backup on the etcd node', runOnce: true, delegateTo: 'localhost' });
    expect(task.loc).to.deep.equal({ file: `${GOOD}/backup.yml`, line: 26, col: 7 });
    expect(playbook.plays[0]!.tasks[1]).to.include({ register: 'ETCD_CLUSTER_STATUS', ignoreErrors: true });
  });

  it('normalizes loops, conditions and tags; YAML 1.1 mode 0600 arrives as the text written', () => {
    const task = playbook.plays[0]!.tasks[6]!;
    expect(task.args).to.deep.equal({ path: '{{ backup_dir }}/snapshot_{{ timestamp.stdout }}.db', mode: '0600' });
    expect(task.loop).to.deep.equal(['one']);
    expect(task.loopVar).to.equal('snapshot');
    expect(task.when).to.deep.equal(['timestamp.stdout | length > 0', 'true']);
    expect(task.tags).to.deep.equal(['backup', 'snapshot']);
  });
});

describe('loadPlaybook: kubeasz restore shape with a role', () => {
  let playbook: Playbook;
  before(async () => {
    playbook = await loadPlaybook(`${GOOD}/restore.yml`, fakeCatalog);
  });

  it('joins a list of host groups into one pattern and keeps play settings', () => {
    expect(playbook.plays.map((p) => p.hosts)).to.deep.equal(['kube_master', 'kube_master,kube_node', 'etcd', 'kube_master:kube_node']);
    expect(playbook.plays[2]).to.include({ serial: 1, become: true, gatherFacts: true });
  });

  it('expands the role from roles/<name>/tasks/main.yml with its defaults and parameters', () => {
    const tasks = playbook.plays[2]!.tasks;
    expect(tasks.map((t) => `${t.module} ${t.name}`)).to.deep.equal([
      'service stop etcd',
      'file clear the etcd data dir',
      'copy prepare the snapshot',
      'shell restore the snapshot',
      'service start etcd',
      'shell wait until etcd is active',
    ]);
    for (const task of tasks) {
      expect(task.role).to.equal('cluster-restore');
      expect(task.roleDefaults).to.deep.equal({ db_to_restore: 'snapshot.db', etcd_restore_dir: '/etcd_backup' });
      expect(task.vars).to.deep.equal({ db_to_restore: 'snapshot.db' });
    }
    expect(tasks[0]?.loc.file).to.equal(`${GOOD}/roles/cluster-restore/tasks/main.yml`);
  });

  it('imports a task file with until/retries/delay, passing on the import tags', () => {
    const wait = playbook.plays[2]!.tasks[5]!;
    expect(wait).to.include({ register: 'etcd_status', until: '"active" in etcd_status.stdout', retries: 8, delay: 8 });
    expect(wait.changedWhen).to.deep.equal(['false']);
    expect(wait.tags).to.deep.equal(['wait']);
    expect(wait.loc).to.deep.equal({ file: `${GOOD}/roles/cluster-restore/tasks/wait.yml`, line: 1, col: 3 });
  });

  it('keeps templated loops and key=value values for the run', () => {
    const start = playbook.plays[3]!.tasks[0]!;
    expect(start.loop).to.equal('{{ kube_master_services }}');
    expect(start.args).to.deep.equal({ name: '{{ item }}', state: 'started', enabled: 'yes' });
  });
});

describe('loadPlaybook: structure', () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const make = (files: Record<string, string>): string => {
    const dir = scratch(files);
    dirs.push(dir);
    return dir;
  };

  it('orders pre_tasks, roles, tasks, post_tasks and applies play tags', async () => {
    const dir = make({
      'site.yml':
        '- hosts: all\n  tags: [site]\n  post_tasks: [{ debug: msg=post }]\n  tasks: [{ debug: msg=main }]\n  roles: [r]\n  pre_tasks: [{ debug: msg=pre }]\n',
      'roles/r/tasks/main.yaml': '- debug: msg=role\n',
    });
    const playbook = await loadPlaybook(join(dir, 'site.yml'), fakeCatalog);
    const tasks = playbook.plays[0]!.tasks;
    expect(tasks.map((t) => (t.args as { msg: string }).msg)).to.deep.equal(['pre', 'role', 'main', 'post']);
    expect(tasks.every((t) => t.tags?.includes('site'))).to.equal(true);
    expect(tasks[1]?.roleDefaults).to.deep.equal({});
  });

  it('coerces typed arguments given as text, as at run time', async () => {
    const dir = make({ 'p.yml': '- hosts: all\n  tasks:\n    - wait_for: port=2379 timeout=30\n' });
    const playbook = await loadPlaybook(join(dir, 'p.yml'), fakeCatalog);
    expect(playbook.plays[0]?.tasks[0]?.args).to.deep.equal({ port: 2379, timeout: 30 });
  });

  it('passes templated arguments that cannot be checked before the run', async () => {
    const dir = make({ 'p.yml': '- hosts: all\n  tasks:\n    - wait_for: { port: "{{ p }}" }\n    - service: name=etcd state={{ wanted }}\n' });
    expect(await problemsOf(join(dir, 'p.yml'))).to.deep.equal([]);
  });

  it('reports problems in role and imported files at their own positions', async () => {
    const dir = make({
      'p.yml': '- hosts: all\n  roles:\n    - role: r\n  tasks:\n    - import_tasks: more.yml\n    - include_tasks: "{{ f }}.yml"\n',
      'roles/r/tasks/main.yml': '- name: typo\n  shel: echo\n',
      'roles/r/defaults/main.yml': '- not a mapping\n',
      'more.yml': '- import_tasks: more.yml\n- debug: msg=x\n  command: ls\n',
    });
    expect(await problemsOf(join(dir, 'p.yml'))).to.deep.equal([
      'error playbook.dynamic-import 6:22',
      'error playbook.role-vars.type 1:1',
      'error playbook.unknown-module 2:3',
      'error playbook.import-loop 1:17',
      'error playbook.two-modules 3:3',
    ]);
  });

  it('refuses a task without a module, two loops, a reserved register name and a missing import', async () => {
    const dir = make({
      'p.yml':
        '- hosts: all\n  tasks:\n    - name: nothing\n    - debug: msg=x\n      loop: [1]\n      with_items: [2]\n      register: hostvars\n    - import_tasks: missing.yml\n      shell: ls\n',
    });
    expect(await problemsOf(join(dir, 'p.yml'))).to.deep.equal([
      'error playbook.no-module 3:7',
      'error playbook.two-loops 6:7',
      'error playbook.reserved-register 7:17',
      'error playbook.missing-file 8:21',
      'error playbook.import-keyword 9:7',
    ]);
  });

  it('refuses key=value words for modules without a free form, and non-mapping arguments', async () => {
    const dir = make({ 'p.yml': '- hosts: all\n  tasks:\n    - service: etcd stopped\n    - file: [a]\n    - copy: dest="unclosed\n' });
    expect(await problemsOf(join(dir, 'p.yml'))).to.deep.equal([
      'error playbook.module-arguments 3:16',
      'error playbook.module-arguments 4:13',
      'error playbook.unclosed-quote 5:13',
    ]);
  });

  it('returns YAML warnings with the playbook', async () => {
    const dir = make({ 'p.yml': '- hosts: all\n  tasks:\n    - shell: sleep 1\n      delay: 1:30\n' });
    const playbook = await loadPlaybook(join(dir, 'p.yml'), fakeCatalog);
    expect(playbook.warnings?.map((p) => `${p.code} ${p.loc?.line}:${p.loc?.col}`)).to.deep.equal(['yaml.base60-number 4:14']);
    expect(playbook.plays[0]?.tasks[0]?.delay).to.equal(90);
  });

  it('refuses a mapping, an empty file and an empty list', async () => {
    const dir = make({ 'map.yml': 'all:\n  hosts: {}\n', 'empty.yml': '', 'list.yml': '[]\n' });
    expect(await problemsOf(join(dir, 'map.yml'))).to.deep.equal(['error playbook.not-a-list 1:1']);
    expect(await problemsOf(join(dir, 'empty.yml'))).to.deep.equal(['error playbook.not-a-list 1:1']);
    expect(await problemsOf(join(dir, 'list.yml'))).to.deep.equal(['error playbook.minitems 1:1']);
  });
});

describe('task keyword normalization', () => {
  const conditions: [unknown, string[] | undefined][] = [
    ['x == 1', ['x == 1']],
    [true, ['true']],
    [
      ['a', false],
      ['a', 'false'],
    ],
    [undefined, undefined],
    [[], undefined],
  ];
  for (const [input, expected] of conditions) {
    it(`when: ${JSON.stringify(input)}`, () => expect(normalizeConditions(input)).to.deep.equal(expected));
  }
  it('splits tag strings on commas', () => {
    expect(normalizeTags('a, b,,c')).to.deep.equal(['a', 'b', 'c']);
    expect(normalizeTags(['x'])).to.deep.equal(['x']);
  });
  it('compiles each module schema once', () => {
    const schema = fakeCatalog.lookup('shell')!.schema;
    expect(moduleValidator(schema)).to.equal(moduleValidator(schema));
  });
});
