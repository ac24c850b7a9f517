// What ansible.cfg changes for a command: the inventory when none is given, the login and key of hosts that
// name none, and the once-per-run notice of host_key_checking = False.
import { expect } from 'chai';
import { acceptNewHostKeys, inventoryArgument } from '../../../src/commands/ansible-defaults.js';
import type { AnsibleSettings } from '../../../src/config/ansible-config.js';
import { connectionFor } from '../../../src/config/connection.js';
import { parseInventory } from '../../../src/config/inventory.js';
import { textOrigin } from '../../../src/config/origin.js';
import { UsageError } from '../../../src/errors.js';

const source = { file: '/etc/kubeasz/ansible.cfg', line: 3 };
const settings = (inventory?: string[]): AnsibleSettings => ({
  rolesPath: { value: [], source: {} },
  notes: [],
  ...(inventory ? { inventory: { value: inventory, source } } : {}),
});

async function stderrOf(work: () => unknown): Promise<string> {
  const write = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = (chunk: string | Uint8Array) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  };
  try {
    await work();
  } finally {
    process.stderr.write = write;
  }
  return text;
}

describe('ansible.cfg defaults for commands', () => {
  it('the inventory on the command line wins; else the one in ansible.cfg, said on stderr', async () => {
    expect(await inventoryArgument('given.yml', settings(['/x/hosts']), 'usage')).to.equal('given.yml');
    let chosen = '';
    const said = await stderrOf(async () => (chosen = await inventoryArgument(undefined, settings(['/x/hosts']), 'usage')));
    expect(chosen).to.equal('/x/hosts');
    expect(said).to.equal('inventory: /x/hosts (inventory in /etc/kubeasz/ansible.cfg:3)\n');
  });

  it('refuses none, and several (orchestrate reads one inventory)', async () => {
    let error: unknown;
    await inventoryArgument(undefined, settings(), 'orchestrate backup INVENTORY').catch((caught: unknown) => (error = caught));
    expect(error).to.be.instanceOf(UsageError);
    expect((error as UsageError).hint).to.include('or set inventory in ansible.cfg');
    await inventoryArgument(undefined, settings(['/a', '/b']), 'usage').catch((caught: unknown) => (error = caught));
    expect((error as UsageError).message).to.include('names 2 inventories (/a, /b); orchestrate reads one');
  });

  it('host_key_checking = False: accept-new, with the notice printed once per run', async () => {
    const decision = { mode: 'accept-new' as const, notice: 'host_key_checking = False (x): ...' };
    const said = await stderrOf(() => {
      expect(acceptNewHostKeys(false, decision)).to.equal(true);
      expect(acceptNewHostKeys(false, decision)).to.equal(true);
    });
    expect(said.split('\n').filter((line) => line.includes('host_key_checking'))).to.have.length(1);
    expect(acceptNewHostKeys(false, { mode: 'strict' })).to.equal(false);
    expect(acceptNewHostKeys(true, { mode: 'strict' })).to.equal(true);
  });

  it('remote_user and private_key_file for hosts that name no login or key; the inventory wins', () => {
    const origin = textOrigin('/etc/ansible/ansible.cfg', 4, 15, 'remote_user = ops');
    const { inventory } = parseInventory('/inv/hosts', '[etcd]\nh1\nh2 ansible_user=root ansible_ssh_private_key_file=/k/own\n', {
      connectionDefaults: { remoteUser: { value: 'ops', origin }, privateKeyFile: { value: '/keys/id_ops', origin } },
    });
    expect(connectionFor(inventory.hosts.get('h1')!)).to.include({ user: 'ops', privateKeyFile: '/keys/id_ops' });
    expect(connectionFor(inventory.hosts.get('h2')!)).to.include({ user: 'root', privateKeyFile: '/k/own' });
  });

  it('a bad remote_user is reported at its line in ansible.cfg', () => {
    const origin = textOrigin('/etc/ansible/ansible.cfg', 4, 15, 'remote_user = "a b"');
    let messages: string[] = [];
    try {
      parseInventory('/inv/hosts', '[etcd]\nh1\n', { connectionDefaults: { remoteUser: { value: 'a b', origin } } });
    } catch (error) {
      messages = (error as { problems: { message: string; loc?: { file: string; line: number } }[] }).problems.map(
        (p) => `${p.loc?.file}:${p.loc?.line} ${p.message}`,
      );
    }
    expect(messages).to.deep.equal(['/etc/ansible/ansible.cfg:4 ansible_user "a b" contains spaces or control characters or starts with "-"']);
  });
});
