// Our reading of ansible.cfg against Debian's `ansible-config dump --only-changed`, setting by setting.
// Skipped where Ansible is not installed (scripts/setup.sh installs it for the tests).
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadAnsibleConfig, type AnsibleSettings } from '../../src/config/ansible-config.js';
import { runProgram } from '../../src/lab/run-program.js';
import { ansibleInventoryAvailable } from '../helpers/ansible-oracle.js';

const fixtures = path.resolve('test/fixtures/ansible-cfg');

/** Ansible's name for each setting orchestrate honours, and how to read ours. */
const settings: [string, (s: AnsibleSettings) => unknown][] = [
  ['DEFAULT_HOST_LIST', (s) => s.inventory?.value],
  ['DEFAULT_REMOTE_USER', (s) => s.remoteUser?.value],
  ['DEFAULT_PRIVATE_KEY_FILE', (s) => s.privateKeyFile?.value],
  ['DEFAULT_ROLES_PATH', (s) => s.rolesPath.value],
  ['DEFAULT_FORKS', (s) => s.forks?.value],
  ['DEFAULT_TIMEOUT', (s) => s.timeout?.value],
  ['HOST_KEY_CHECKING', (s) => s.hostKeyChecking?.value],
];

describe('ansible.cfg read as ansible-config reads it', function () {
  this.timeout(120_000);
  let home: string;
  before(function () {
    if (!ansibleInventoryAvailable()) this.skip();
    home = mkdtempSync(path.join(tmpdir(), 'orchestrate-cfg-oracle-'));
  });
  after(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  for (const name of ['kubeasz', 'relative']) {
    it(`${name}/ansible.cfg: every honoured setting Ansible changes`, async () => {
      const env = {
        ANSIBLE_CONFIG: path.join(fixtures, name, 'ansible.cfg'),
        HOME: home,
        ORCHESTRATE_TEST_ROLES: '/srv/roles',
        ANSIBLE_LOCAL_TEMP: path.join(home, 'tmp'),
      };
      const dump = await runProgram('ansible-config', ['dump', '--only-changed', '--format', 'json'], {
        timeoutMs: 60_000,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...env },
        cwd: home,
      });
      expect(dump.code, dump.stderr).to.equal(0);
      const changed = new Map((JSON.parse(dump.stdout) as { name: string; value: unknown }[]).map((entry) => [entry.name, entry.value]));
      const ours = await loadAnsibleConfig({ env, cwd: home, home });
      for (const [key, read] of settings) expect(read(ours), key).to.deep.equal(changed.get(key));
    });
  }
});
