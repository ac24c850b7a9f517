// What ansible.cfg (and its ANSIBLE_* variables) changes for a command: the default inventory, the login and
// key for hosts that name none, roles_path, forks, the connect timeout, and how unknown host keys are treated.
// Command-line options always win.
import { UsageError } from '../errors.js';
import type { AnsibleSettings, HostKeyDecision } from '../config/ansible-config.js';
import type { LoadInventoryOptions } from '../config/inventory.js';

export interface CommandDefaults {
  settings: AnsibleSettings;
  /** For loadInventory: remote_user and private_key_file where the inventory says nothing. */
  inventoryOptions: LoadInventoryOptions;
  hostKeys: HostKeyDecision;
}

export async function ansibleDefaults(): Promise<CommandDefaults> {
  const { hostKeyDecision, loadAnsibleConfig, settingOrigin } = await import('../config/ansible-config.js');
  const settings = await loadAnsibleConfig();
  for (const note of settings.notes) process.stderr.write(`note: ${note}\n`);
  const connectionDefaults: NonNullable<LoadInventoryOptions['connectionDefaults']> = {};
  if (settings.remoteUser) connectionDefaults.remoteUser = { value: settings.remoteUser.value, origin: settingOrigin(settings.remoteUser) };
  if (settings.privateKeyFile)
    connectionDefaults.privateKeyFile = { value: settings.privateKeyFile.value, origin: settingOrigin(settings.privateKeyFile) };
  return { settings, inventoryOptions: { connectionDefaults }, hostKeys: hostKeyDecision(settings) };
}

/**
 * The inventory: the command's argument, else ansible.cfg's `inventory` (one source; said on stderr so that
 * a log shows which cluster was meant).
 */
export async function inventoryArgument(given: string | undefined, settings: AnsibleSettings, usageLine: string): Promise<string> {
  if (given !== undefined) return given;
  const configured = settings.inventory;
  if (!configured || configured.value.length === 0) {
    throw new UsageError('no inventory given', `${usageLine} (or set inventory in ansible.cfg)`);
  }
  const { describeSource } = await import('../config/ansible-config.js');
  if (configured.value.length > 1) {
    throw new UsageError(
      `${describeSource(configured.source)} names ${configured.value.length} inventories (${configured.value.join(', ')}); orchestrate reads one`,
      'give the inventory on the command line',
    );
  }
  const inventory = configured.value[0] as string;
  process.stderr.write(`inventory: ${inventory} (inventory in ${describeSource(configured.source)})\n`);
  return inventory;
}

/** Accept-new for unknown host keys when asked on the command line or by ansible.cfg; the notice is printed once. */
export function acceptNewHostKeys(flag: boolean, decision: HostKeyDecision): boolean {
  if (flag) return true;
  if (decision.mode !== 'accept-new') return false;
  if (decision.notice !== undefined && !noticed) {
    noticed = true;
    process.stderr.write(`note: ${decision.notice}\n`);
  }
  return true;
}

let noticed = false;
