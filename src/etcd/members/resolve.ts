// Three sources of a member's identity must agree before anything is stopped: the inventory, the member's
// own configuration (unit or manifest), and the live cluster's member list (when it answers). A value the
// inventory leaves at its default is taken from the configuration when that is unambiguous, and the
// preview says so; a value the inventory sets and the member contradicts refuses the restore, naming the
// host, the field, both values and the fix.
import { checkEtcdUrl, etcdNameExpected, invalidDataDir, invalidEtcdName } from '../../config/etcd-value-rules.js';
import type { EtcdMember, InventoryHost } from '../../config/types.js';
import type { ObservedMember } from '../cluster/observe.js';
import type { MemberConfig, Topology } from './read-config.js';

export type IdentityField = 'name' | 'peerUrl' | 'clientUrl' | 'dataDir' | 'walDir';

/** Where a member's value came from, for the preview. */
export type ValueSource = 'inventory' | 'default' | 'config';

export interface ResolvedMember extends EtcdMember {
  topology: Topology;
  /** A WAL kept apart from the data dir (`--wal-dir`), on the host. */
  walDir?: string;
  sources: Partial<Record<IdentityField, { from: ValueSource; file?: string }>>;
}

export interface Resolution {
  members: ResolvedMember[];
  /** Each refuses the restore. */
  problems: string[];
  /** What was derived from the members' configuration, or could not be checked. */
  notes: string[];
}

const variableOf: Record<IdentityField, string> = {
  name: 'etcd_name',
  peerUrl: 'etcd_peer_url',
  clientUrl: 'etcd_client_url',
  dataDir: 'etcd_data_dir',
  walDir: 'etcd_wal_dir',
};

/** The setting each identity field is read from. */
const settingOf = { name: 'name', peerUrl: 'peerUrls', clientUrl: 'clientUrls', dataDir: 'dataDir', walDir: 'walDir' } as const;

const trimSlash = (path: string): string => (path.length > 1 ? path.replace(/\/+$/, '') : path);

function configured(config: MemberConfig, field: IdentityField): string[] {
  const s = config.settings;
  switch (field) {
    case 'name':
      return s.name !== undefined ? [s.name] : [];
    case 'peerUrl':
      return s.peerUrls ?? [];
    case 'clientUrl':
      return s.clientUrls ?? [];
    case 'dataDir':
      return s.dataDir !== undefined ? [trimSlash(s.dataDir)] : [];
    case 'walDir':
      return s.walDir !== undefined ? [trimSlash(s.walDir)] : [];
  }
}

/** One member: the inventory's explicit values checked against its configuration, defaults replaced by it. */
export function resolveMember(
  host: InventoryHost,
  member: EtcdMember,
  config: MemberConfig | undefined,
): { member: ResolvedMember; problems: string[]; notes: string[] } {
  const resolved: ResolvedMember = { ...member, topology: config?.topology ?? 'systemd', sources: {} };
  const problems: string[] = [];
  const notes: string[] = [];
  for (const field of ['name', 'peerUrl', 'clientUrl', 'dataDir', 'walDir'] as const) {
    // Name the file the value came from (an EnvironmentFile, a drop-in), not only the unit.
    const file = config?.origins?.[settingOf[field]] ?? config?.sources[0];
    const variable = variableOf[field];
    const explicit = typeof host.vars[variable] === 'string' && host.vars[variable] !== '';
    const current =
      field === 'walDir' ? (explicit ? String(host.vars[variable]) : undefined) : field === 'dataDir' ? trimSlash(member[field]) : member[field];
    const values = config ? configured(config, field) : [];
    if (values.length === 0) {
      if (current !== undefined) resolved.sources[field] = { from: explicit ? 'inventory' : 'default' };
      continue;
    }
    if (explicit) {
      if (current !== undefined && !values.includes(current)) {
        problems.push(
          `${member.host}: ${variable} is ${current} in the inventory, but ${file ?? 'its configuration'} says ${values.join(',')}; fix: set ${variable}: ${values[0] ?? ''} for ${member.host} (or remove it to use the configured value)`,
        );
      }
      resolved.sources[field] = { from: 'inventory' };
      continue;
    }
    // Several advertised client URLs (a loopback one among them) leave the inventory's address the best choice.
    if (field === 'clientUrl' && values.length > 1 && current !== undefined) {
      resolved.sources[field] = { from: 'default' };
      continue;
    }
    const chosen = values[0] ?? '';
    const invalid = invalidConfigured(field, chosen);
    if (invalid) {
      problems.push(
        `${member.host}: ${variable} would be taken from ${file ?? 'its configuration'}, but ${JSON.stringify(chosen)} ${invalid}; fix: correct the member's configuration, or set ${variable} for ${member.host} to the value it really uses`,
      );
      continue;
    }
    if (field === 'peerUrl' && values.length > 1) notes.push(`${member.host}: advertises several peer URLs (${values.join(',')}); ${chosen} is used`);
    if (chosen !== current)
      notes.push(
        `${member.host}: ${variable} ${chosen} taken from ${file ?? 'its configuration'} (the inventory leaves it at ${current ?? 'unset'})`,
      );
    if (field === 'walDir') resolved.walDir = chosen;
    else resolved[field] = chosen;
    resolved.sources[field] = { from: 'config', ...(file ? { file } : {}) };
  }
  return { member: resolved, problems, notes };
}

/** The inventory's rules for a value read from a member's configuration: it names folders moved aside and goes into commands. */
function invalidConfigured(field: IdentityField, value: string): string | undefined {
  switch (field) {
    case 'name':
      return invalidEtcdName(value) && `is not a valid member name (${etcdNameExpected})`;
    case 'dataDir':
    case 'walDir':
      return invalidDataDir(value)?.why;
    case 'peerUrl':
    case 'clientUrl': {
      const checked = checkEtcdUrl(value);
      return 'why' in checked ? checked.why : undefined;
    }
  }
}

/** Two members claiming one name or one peer URL after resolution. */
export function duplicateIdentities(members: readonly ResolvedMember[]): string[] {
  const problems: string[] = [];
  for (const field of ['name', 'peerUrl'] as const) {
    const byValue = new Map<string, string[]>();
    for (const m of members) byValue.set(m[field], [...(byValue.get(m[field]) ?? []), m.host]);
    for (const [value, hosts] of byValue) {
      if (hosts.length > 1)
        problems.push(
          `${hosts.join(' and ')} both claim the ${field === 'name' ? 'member name' : 'peer URL'} ${value}; fix: give each member its own ${variableOf[field]} (or correct its configuration)`,
        );
    }
  }
  return problems;
}

/** The live member list against the resolved members: same names, same peer URLs, nobody missing or extra. */
export function checkAgainstLive(members: readonly ResolvedMember[], live: readonly ObservedMember[]): string[] {
  const problems: string[] = [];
  for (const m of members) {
    const byUrl = live.find((l) => l.peerUrls.includes(m.peerUrl));
    const byName = live.find((l) => l.name === m.name);
    if (byUrl && byUrl.name !== '' && byUrl.name !== m.name) {
      problems.push(
        `${m.host}: the live cluster calls the member at ${m.peerUrl} "${byUrl.name}", the restore would name it "${m.name}"; fix: set etcd_name: ${byUrl.name} for ${m.host}`,
      );
    } else if (!byUrl && byName) {
      problems.push(
        `${m.host}: the live member "${m.name}" has peer URLs ${byName.peerUrls.join(',')}, the restore would use ${m.peerUrl}; fix: set etcd_peer_url: ${byName.peerUrls[0] ?? ''} for ${m.host}`,
      );
    } else if (!byUrl && !byName) {
      problems.push(
        `${m.host}: the live cluster has no member "${m.name}" at ${m.peerUrl}; fix: check the inventory's etcd group and the member's identity`,
      );
    }
  }
  for (const l of live) {
    const known = members.some((m) => m.name === l.name || l.peerUrls.includes(m.peerUrl));
    if (!known)
      problems.push(
        `the live cluster has a member "${l.name || l.id}" (${l.peerUrls.join(',')}) the inventory does not list; fix: add its host to the etcd group, or remove the member first`,
      );
  }
  return problems;
}
