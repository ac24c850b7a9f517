// `orchestrate lab up|status|down|damage|power-cut|get`: a local lab of real hosts (sshd + etcd under TLS) for tests and the demo.
import { parseArgs } from 'node:util';
import { ExitCode, UsageError } from '../errors.js';
import { labDamage, labDown, labGet, labPowerCut, labStatus, labUp, type LabHostInfo, type LabStatusReport, type LabUpResult } from '../lab/index.js';
import { defaultLabEtcdVersion, labEtcdVersions, parseLabEtcdVersion } from '../lab/etcd-versions.js';
import { labTopologies, maxLabNodes, parseLabTopology, parseNodeCount } from '../lab/lab-layout.js';
import { defaultLabMembers, defaultLabNet, maxLabMembers, parseMemberCount } from '../lab/paths.js';

const usage = `usage: orchestrate lab <up|status|down|damage|power-cut|get KEY> [options]   (root only)

  up       start N hosts, each on its own loopback address with its own filesystem view,
           sshd on port 22 and an etcd member under TLS; writes DIR/inventory.yml
  status   per host: sshd, services, etcd health and leader
  down     stop exactly what \`up\` started (by pid) and remove the lab's files
  damage   demo only: delete every pod under /registry/pods/ and write a rogue key
  power-cut  demo only: write an order after the last backup, then kill -9 every etcd (kubeasz topology)
  get KEY  print one key's value (exit 3 when it is missing)

options:
  --dir DIR          lab folder (default ./lab)
  --members N        up: number of hosts, 1 to ${maxLabMembers} (default ${defaultLabMembers})
  --etcd VERSION     up: ${labEtcdVersions.join(' or ')} (default ${defaultLabEtcdVersion}; 3.5 comes from Debian 13, see scripts/setup.sh)
  --topology T       up: ${labTopologies.join(' (systemd units, default) or ')} (static pods under a stand-in kubelet)
  --nodes M          up: kube_node-only hosts besides the members, 0 to ${maxLabNodes} (default 0)
  --bastion          up: hosts in a network namespace of their own, reachable only through a jump host
  --net A.B.C        up: first three octets of the loopback network (default ${defaultLabNet})
  --keep-on-failure  up: leave a lab that failed to start in place, to read its logs
  --json             status: print the report as JSON
`;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function hostLine(host: LabHostInfo): string {
  const name =
    host.inventoryName === host.address
      ? host.name
      : `${host.inventoryName}${host.role === 'member' && host.name !== host.inventoryName ? ` (${host.name})` : ''}`;
  return `    ${host.address.padEnd(15)} ${name.padEnd(20)} ${host.role.padEnd(7)} sshd pid ${String(host.pid).padEnd(8)} upper ${host.upperDir}`;
}

function printUp(info: LabUpResult): void {
  const out: string[] = [];
  const shape = `${info.hosts.length} member(s)${info.nodes.length ? ` + ${info.nodes.length} node(s)` : ''}${info.bastion ? ' behind a bastion' : ''} on ${info.net}.x, ${info.topology} topology, etcd ${info.etcdVersion}`;
  if (info.alreadyRunning) {
    out.push(`lab already running in ${info.dir} (${shape}); nothing changed.`);
    if (info.differsFromRequest) out.push(`note: ${info.differsFromRequest}`);
  } else {
    out.push(`lab up: ${shape}, in ${seconds(info.startupMs)}`);
  }
  const first = info.hosts[0];
  out.push(
    `  folder       ${info.dir}`,
    `  inventory    ${info.inventoryFile}`,
    `  ssh_config   ${info.sshConfigFile}`,
    `  ssh key      ${info.keyFile}  (root and ${info.deployUser}, passwordless sudo, on every host)`,
    `  known_hosts  ${info.knownHostsFile}  (also in ${info.userKnownHostsFile}, lines tagged orchestrate-lab:${info.dir})`,
    `  pki          CA ${info.pki.caFile}`,
    info.topology === 'kubeadm'
      ? "               members: kubeadm's /etc/kubernetes/pki/etcd/* and /etc/kubernetes/pki/apiserver-etcd-client.*"
      : `               etcd server/peer (also client) ${info.pki.certFile} + ${info.pki.keyFile}`,
    `               deploy-host client ${info.pki.clientCertFile} + ${info.pki.clientKeyFile}`,
    `  logs         sshd: ${info.logsDir}/<address>-sshd.log; units: <upper>/${info.unitLogDir}/<unit>.log; start/stop: <upper>/${info.systemctlLog}${info.topology === 'kubeadm' ? `; kubelet: <upper>/${info.kubeletLog}` : ''}`,
    ...(info.netns
      ? [`  netns        ${info.netns.name} (members and nodes; reach them through the bastion, or nsenter --net=${info.netns.path})`]
      : []),
    '  hosts:',
    ...[...(info.bastion ? [info.bastion] : []), ...info.hosts, ...info.nodes].map(hostLine),
  );
  for (const conflict of info.knownHosts?.conflicting ?? []) {
    out.push(
      `warning: ${info.userKnownHostsFile} has an untagged line for a lab address: ${conflict.slice(0, 80)}`,
      '  fix: ssh-keygen -R <address> if ssh reports a changed host key',
    );
  }
  if (first) {
    const netns = info.netns ? `nsenter --net=${info.netns.path} ` : '';
    out.push(
      '  try:',
      `    ssh -F ${info.sshConfigFile} ${first.inventoryName} cat /etc/lab-host`,
      `    ${netns}etcdctl --endpoints=${info.hosts.map((host) => host.clientUrl).join(',')} --cacert=${info.pki.caFile} --cert=${info.pki.clientCertFile} --key=${info.pki.clientKeyFile} endpoint status -w table`,
      `    orchestrate lab down --dir ${info.dir}`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

function statusHealthy(report: LabStatusReport): boolean {
  return report.found && report.hosts.every((host) => host.running && host.sshd && (host.role !== 'member' || host.etcd.healthy));
}

function printStatus(report: LabStatusReport): void {
  if (!report.found) {
    process.stdout.write(`no lab in ${report.dir}\n`);
    return;
  }
  const out = [
    `lab in ${report.dir}: ${report.hosts.length} host(s) on ${report.net}.x, ${report.topology} topology, etcd ${report.etcdVersion}, phase ${report.phase}, created ${report.createdAt}`,
  ];
  for (const host of report.hosts) {
    const etcd =
      host.role !== 'member'
        ? host.role
        : host.etcd.status
          ? `etcd healthy${host.etcd.status.isLeader ? ' LEADER' : ''} id ${host.etcd.status.memberId} rev ${host.etcd.status.revision} term ${host.etcd.status.raftTerm} db ${host.etcd.status.dbSize} B v${host.etcd.status.version}`
          : `etcd UNHEALTHY (${host.etcd.error ?? 'unknown'})`;
    const services = Object.entries(host.services)
      .map(([name, state]) => `${name}=${state}`)
      .join(' ');
    const containers = host.containers
      ?.map((c) => `${c.name}=${c.state.replace('CONTAINER_', '').toLowerCase()}${c.attempt > 0 ? `(attempt ${c.attempt})` : ''}`)
      .join(' ');
    const memory = host.memory ? `  mem ${(host.memory.pssKiB / 1024).toFixed(1)} MiB PSS in ${host.memory.processes} processes` : '';
    out.push(
      `  ${host.address.padEnd(15)} ${host.inventoryName === host.address ? '' : `${host.inventoryName} `}${host.running ? `pid ${host.pid}` : 'NOT RUNNING'}  sshd ${host.sshd ? 'up' : 'DOWN'}  ${etcd}${memory}`,
      ...(services ? [`  ${''.padEnd(15)} ${services}`] : []),
      ...(containers ? [`  ${''.padEnd(15)} static pods: ${containers}`] : []),
    );
  }
  out.push(statusHealthy(report) ? 'all hosts up, every member healthy' : 'lab degraded: see above');
  process.stdout.write(`${out.join('\n')}\n`);
}

const labOptions = {
  dir: { type: 'string', default: 'lab' },
  members: { type: 'string' },
  net: { type: 'string' },
  etcd: { type: 'string' },
  topology: { type: 'string' },
  nodes: { type: 'string' },
  bastion: { type: 'boolean', default: false },
  'keep-on-failure': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parseLabArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: labOptions,
    strict: true,
  });
}

/** The demo's own actions: a power cut after the last backup, and reading one key back. */
async function demoAction(action: 'power-cut' | 'get', dir: string, key: string): Promise<number> {
  if (action === 'power-cut') {
    const report = await labPowerCut({ dir });
    const killed = report.killed.map((k) => `${k.address} (pid ${k.pid})`).join(', ') || 'no member (none was running)';
    process.stdout.write(`lab power-cut: wrote ${report.orderKey} ("${report.orderValue}"), then killed etcd with SIGKILL on ${killed}\n`);
    return ExitCode.ok;
  }
  const value = await labGet({ dir, key });
  process.stdout.write(value === undefined ? `${key}: missing\n` : `${key} = ${value}\n`);
  return value === undefined ? ExitCode.failed : ExitCode.ok;
}

export async function labCommand(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseLabArgs>;
  try {
    parsed = parseLabArgs(args);
  } catch (error) {
    throw new UsageError((error as Error).message, 'run `orchestrate lab --help`');
  }
  const { values, positionals } = parsed;
  const [action, ...extra] = positionals;
  if (values.help) {
    process.stdout.write(usage);
    return ExitCode.ok;
  }
  if (!action) throw new UsageError('lab needs an action: up, status, down, damage, power-cut or get', 'run `orchestrate lab --help`');
  const wanted = action === 'get' ? extra.length === 1 : extra.length === 0;
  if (!wanted)
    throw new UsageError(action === 'get' ? 'lab get needs one KEY' : `unexpected argument "${extra[0] ?? ''}"`, 'run `orchestrate lab --help`');
  const upOnly =
    [values.members, values.net, values.etcd, values.topology, values.nodes].some((value) => value !== undefined) ||
    values.bastion ||
    values['keep-on-failure'];
  if (action !== 'up' && upOnly) {
    throw new UsageError(
      `--members, --nodes, --net, --etcd, --topology, --bastion and --keep-on-failure apply to \`lab up\` only, not \`lab ${action}\``,
    );
  }
  switch (action) {
    case 'up': {
      const began = Date.now();
      const info = await labUp({
        dir: values.dir,
        ...(values.members !== undefined ? { members: parseMemberCount(values.members) } : {}),
        ...(values.net !== undefined ? { net: values.net } : {}),
        ...(values.etcd !== undefined ? { etcd: parseLabEtcdVersion(values.etcd) } : {}),
        ...(values.topology !== undefined ? { topology: parseLabTopology(values.topology) } : {}),
        ...(values.nodes !== undefined ? { nodes: parseNodeCount(values.nodes) } : {}),
        ...(values.bastion ? { bastion: true } : {}),
        keepOnFailure: values['keep-on-failure'],
        onProgress: (message) => process.stdout.write(`  [${seconds(Date.now() - began).padStart(6)}] ${message}\n`),
      });
      printUp(info);
      return ExitCode.ok;
    }
    case 'status': {
      const report = await labStatus({ dir: values.dir });
      if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else printStatus(report);
      return statusHealthy(report) ? ExitCode.ok : ExitCode.failed;
    }
    case 'down': {
      const report = await labDown({ dir: values.dir });
      if (!report.found) {
        process.stdout.write(`no lab in ${report.dir}; nothing to do\n`);
        return ExitCode.ok;
      }
      const kept = report.keptEntries.length > 0 ? ` (kept: ${report.keptEntries.join(', ')})` : '';
      process.stdout.write(
        `lab down: stopped ${report.stoppedPids.length} process(es), removed ${report.knownHostsLinesRemoved} known_hosts line(s) and the lab's files in ${report.dir}${kept}\n`,
      );
      return ExitCode.ok;
    }
    case 'damage': {
      const report = await labDamage({ dir: values.dir });
      process.stdout.write(`lab damage: deleted ${report.deletedKeys} key(s) under /registry/pods/ and wrote ${report.rogueKey}\n`);
      return ExitCode.ok;
    }
    case 'power-cut':
    case 'get':
      return demoAction(action, values.dir, extra[0] ?? '');
    default:
      throw new UsageError(`unknown lab action "${action}"`, 'use up, status, down, damage, power-cut or get');
  }
}
