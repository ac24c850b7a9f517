// Debian's `ansible-inventory --list` as the truth about an INI inventory: every host, its variables after
// Ansible's precedence, and the groups it belongs to (directly or through children).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '../../src/lab/run-program.js';

export interface OracleHost {
  vars: Record<string, unknown>;
  groups: Set<string>;
}

export type OracleReading = { ok: true; hosts: Map<string, OracleHost> } | { ok: false; stderr: string };

export function ansibleInventoryAvailable(): boolean {
  try {
    execFileSync('ansible-inventory', ['--version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

interface ListedGroup {
  hosts?: string[];
  children?: string[];
}

/**
 * Runs ansible-inventory on `file` with only the INI plugin enabled, no ansible.cfg, a throwaway home, and
 * unparsable sources made fatal, so that a file Ansible refuses reads as `ok: false`.
 */
export async function ansibleInventoryList(file: string): Promise<OracleReading> {
  const home = mkdtempSync(join(tmpdir(), 'orchestrate-oracle-'));
  try {
    const config = join(home, 'ansible.cfg');
    writeFileSync(config, '[defaults]\n');
    const result = await runProgram('ansible-inventory', ['-i', file, '--list'], {
      timeoutMs: 60_000,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        LANG: 'C.UTF-8',
        ANSIBLE_CONFIG: config,
        ANSIBLE_INVENTORY_ENABLED: 'ini',
        ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true',
        ANSIBLE_LOCAL_TEMP: join(home, 'tmp'),
        ANSIBLE_NOCOLOR: '1',
      },
    });
    if (result.code !== 0) return { ok: false, stderr: result.stderr };
    const listed = JSON.parse(result.stdout) as Record<string, ListedGroup> & { _meta: { hostvars: Record<string, Record<string, unknown>> } };
    const hosts = new Map<string, OracleHost>();
    const hostsOf = (group: string, seen = new Set<string>()): string[] => {
      if (seen.has(group)) return [];
      seen.add(group);
      const entry = listed[group];
      return [...(entry?.hosts ?? []), ...(entry?.children ?? []).flatMap((child) => hostsOf(child, seen))];
    };
    for (const [name, vars] of Object.entries(listed._meta.hostvars)) hosts.set(name, { vars, groups: new Set(['all']) });
    for (const group of Object.keys(listed)) {
      if (group === '_meta') continue;
      for (const host of hostsOf(group)) {
        let entry = hosts.get(host);
        if (!entry) {
          entry = { vars: {}, groups: new Set(['all']) };
          hosts.set(host, entry);
        }
        entry.groups.add(group);
      }
    }
    return { ok: true, hosts };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
