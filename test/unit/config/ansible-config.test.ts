// ansible.cfg found where Ansible finds it, its settings read as Ansible reads them, host_key_checking made safe.
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { findAnsibleConfig, hostKeyDecision, loadAnsibleConfig } from '../../../src/config/ansible-config.js';
import { parseConfigParser } from '../../../src/config/config-parser.js';
import { ConfigError } from '../../../src/errors.js';

const fixtures = path.resolve('test/fixtures/ansible-cfg');

function sandbox(): { root: string; cwd: string; home: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'orchestrate-cfg-'));
  const cwd = path.join(root, 'work');
  const home = path.join(root, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  return { root, cwd, home };
}

describe('finding ansible.cfg', () => {
  it('takes the first of $ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg (then /etc/ansible/ansible.cfg)', () => {
    const { root, cwd, home } = sandbox();
    expect(findAnsibleConfig({ env: {}, cwd, home }).file).to.equal(undefined);
    writeFileSync(path.join(home, '.ansible.cfg'), '[defaults]\n');
    expect(findAnsibleConfig({ env: {}, cwd, home }).file).to.equal(path.join(home, '.ansible.cfg'));
    writeFileSync(path.join(cwd, 'ansible.cfg'), '[defaults]\n');
    expect(findAnsibleConfig({ env: {}, cwd, home }).file).to.equal(path.join(cwd, 'ansible.cfg'));
    const custom = path.join(root, 'custom.cfg');
    writeFileSync(custom, '[defaults]\n');
    expect(findAnsibleConfig({ env: { ANSIBLE_CONFIG: custom }, cwd, home }).file).to.equal(custom);
    expect(findAnsibleConfig({ env: { ANSIBLE_CONFIG: fixtures + '/kubeasz' }, cwd, home }).file).to.equal(`${fixtures}/kubeasz/ansible.cfg`);
  });

  it('skips ./ansible.cfg in a world-writable folder, as Ansible does, and says so', () => {
    const { cwd, home } = sandbox();
    writeFileSync(path.join(cwd, 'ansible.cfg'), '[defaults]\n');
    chmodSync(cwd, 0o777);
    const found = findAnsibleConfig({ env: {}, cwd, home });
    expect(found.file).to.equal(undefined);
    expect(found.note).to.include('world-writable');
  });
});

describe('ansible.cfg settings', () => {
  it("kubeasz's shape: roles_path, host_key_checking = False, the rest default", async () => {
    const settings = await loadAnsibleConfig({ env: { ANSIBLE_CONFIG: `${fixtures}/kubeasz/ansible.cfg` }, cwd: '/', home: '/home/op' });
    expect(settings.rolesPath.value).to.deep.equal(['/etc/kubeasz/roles']);
    expect(settings.hostKeyChecking?.value).to.equal(false);
    expect(settings.hostKeyChecking?.source).to.include({ file: `${fixtures}/kubeasz/ansible.cfg`, line: 12, col: 21 });
    expect(settings.inventory).to.equal(undefined);
    expect(settings.forks).to.equal(undefined);
  });

  it('paths relative to the file, ~ and $VARS expanded, quotes and ; comments removed, keys in any case', async () => {
    const file = `${fixtures}/relative/ansible.cfg`;
    const env = { ANSIBLE_CONFIG: file, ORCHESTRATE_TEST_ROLES: '/srv/roles' };
    const settings = await loadAnsibleConfig({ env, cwd: '/', home: '/home/op' });
    expect(settings.inventory?.value).to.deep.equal([`${fixtures}/relative/clusters/k8s-01/hosts`, `${fixtures}/extra.yml`]);
    expect(settings.remoteUser?.value).to.equal('deploy');
    expect(settings.privateKeyFile?.value).to.equal(`${fixtures}/relative/keys/id_ed25519`);
    expect(settings.rolesPath.value).to.deep.equal([`${fixtures}/relative/roles`, '/srv/roles', '/home/op/roles']);
    expect([settings.forks?.value, settings.timeout?.value, settings.hostKeyChecking?.value]).to.deep.equal([7, 20, true]);
  });

  it('environment variables win over the file', async () => {
    const env = {
      ANSIBLE_CONFIG: `${fixtures}/relative/ansible.cfg`,
      ANSIBLE_FORKS: '3',
      ANSIBLE_HOST_KEY_CHECKING: 'False',
      ANSIBLE_REMOTE_USER: 'ops',
    };
    const settings = await loadAnsibleConfig({ env, cwd: '/', home: '/home/op' });
    expect(settings.forks).to.deep.equal({ value: 3, source: { env: 'ANSIBLE_FORKS' } });
    expect(settings.remoteUser?.value).to.equal('ops');
    expect(settings.hostKeyChecking?.value).to.equal(false);
  });

  it("with no ansible.cfg: Ansible's default roles_path and nothing else", async () => {
    const { cwd, home } = sandbox();
    const settings = await loadAnsibleConfig({ env: {}, cwd, home });
    expect(settings.file).to.equal(undefined);
    expect(settings.rolesPath.value).to.deep.equal([`${home}/.ansible/roles`, '/usr/share/ansible/roles', '/etc/ansible/roles']);
  });

  it('reports every bad value at file:line:col (a boolean typo is not read as False)', async () => {
    const file = `${fixtures}/bad/ansible.cfg`;
    let error: unknown;
    await loadAnsibleConfig({ env: { ANSIBLE_CONFIG: file }, cwd: '/', home: '/home/op' }).catch((caught: unknown) => (error = caught));
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => `${p.code} ${p.loc?.line}:${p.loc?.col} ${p.message}`)).to.deep.equal([
      'ansible-cfg.syntax 5:1 forks is set twice in [defaults]',
      'ansible-cfg.value 2:9 forks = "many" is not a whole number of 1 or more',
      'ansible-cfg.value 3:11 timeout = "0" is not a whole number of 1 or more',
      'ansible-cfg.value 4:21 host_key_checking = "Flase" is not True or False',
    ]);
  });
});

describe('host_key_checking', () => {
  it('default and True: unknown keys stop the host', () => {
    expect(hostKeyDecision({})).to.deep.equal({ mode: 'strict' });
    expect(hostKeyDecision({ hostKeyChecking: { value: true, source: { file: '/a/ansible.cfg', line: 3 } } })).to.deep.equal({ mode: 'strict' });
  });

  it('False: new keys accepted and recorded, a changed key still refused, said once with where it came from', () => {
    const decision = hostKeyDecision({ hostKeyChecking: { value: false, source: { file: '/etc/kubeasz/ansible.cfg', line: 12 } } });
    expect(decision.mode).to.equal('accept-new');
    expect(decision.notice).to.equal(
      'host_key_checking = False (/etc/kubeasz/ansible.cfg:12): host keys never seen before are accepted and recorded in known_hosts; a changed host key is still refused',
    );
  });
});

describe("configparser's INI dialect", () => {
  it('continuation lines, empty lines inside a value, comments, both delimiters', () => {
    const text = '[defaults]\nroles_path = a:\n   b\n\n   c\n# comment\nkey: value ; comment\nhash = x # kept\n';
    const parsed = parseConfigParser('x.cfg', text);
    expect(parsed.problems).to.deep.equal([]);
    const section = parsed.sections.get('defaults');
    expect(section?.get('roles_path')?.value).to.equal('a:\nb\n\nc');
    expect(section?.get('key')?.value).to.equal('value');
    expect(section?.get('hash')?.value).to.equal('x # kept');
  });

  it('refuses a setting before any section and a line that is not key = value', () => {
    const parsed = parseConfigParser('x.cfg', 'forks = 5\n[defaults]\njunk\n');
    expect(parsed.problems.map((p) => `${p.loc?.line}:${p.loc?.col} ${p.message}`)).to.deep.equal([
      '1:1 a setting before any [section]',
      '3:1 "junk" is not "key = value"',
    ]);
  });
});
