// ---------------------------------------------------------------------------
// orchestrate lab TEST FIXTURE - a stand-in for crictl inside a lab host,
// over the state of the stand-in kubelet (/var/lib/lab-cri). Not crictl.
// The subset an operator uses around etcd, in crictl's own output formats:
//   crictl ps [-a] [-q] [--name REGEX] [--state created|running|exited|unknown]
//             [--pod ID] [--no-trunc] [-o table|json]
//   crictl pods [-q] [--name REGEX] [-o table|json]
//   crictl stop [-t SECONDS] ID...   (SIGTERM and SIGKILL after SECONDS; 0: SIGKILL at once, as containerd)
//   crictl rm [-f] ID...             (a running container only with -f)
//   crictl inspect ID...             (status and info.pid, JSON)
//   crictl version
// IDs may be unique prefixes. Global options (--runtime-endpoint, -r, ...) are accepted and ignored.
// ---------------------------------------------------------------------------
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const cri = '/var/lib/lab-cri';
const read = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

class CrictlError extends Error {}

function processAlive(pid, start) {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return false;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] !== 'Z' && fields[19] === start;
}

function container(id) {
  const dir = join(cri, 'containers', id);
  const meta = read(join(dir, 'meta'))?.split('\n');
  if (!meta || meta.length < 9) return undefined;
  const [podId, name, attempt, uid, podName, namespace, image, createdAt, logPath] = meta;
  const [pid, start] = (read(join(dir, 'pid')) ?? '').trim().split(' ');
  const exit = read(join(dir, 'exit'))?.trim().split(' ');
  const running = pid !== undefined && pid !== '' && processAlive(pid, start);
  const state = exit ? 'CONTAINER_EXITED' : running ? 'CONTAINER_RUNNING' : pid ? 'CONTAINER_EXITED' : 'CONTAINER_CREATED';
  const mounts = (read(join(dir, 'mounts')) ?? '')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
  return {
    id,
    dir,
    podId,
    name,
    attempt: Number(attempt),
    uid,
    podName,
    namespace,
    image,
    createdAt: BigInt(createdAt || '0'),
    startedAt: BigInt((read(join(dir, 'started')) ?? '0').trim() || '0'),
    finishedAt: BigInt(exit?.[1] ?? (state === 'CONTAINER_EXITED' ? createdAt : '0')),
    exitCode: exit ? Number(exit[0]) : state === 'CONTAINER_EXITED' ? 255 : 0,
    logPath,
    pid: running ? Number(pid) : 0,
    state,
    mounts,
  };
}

function containers() {
  const ids = existsSync(join(cri, 'containers')) ? readdirSync(join(cri, 'containers')) : [];
  return ids.map(container).filter(Boolean);
}

function pods() {
  const ids = existsSync(join(cri, 'pods')) ? readdirSync(join(cri, 'pods')) : [];
  return ids.flatMap((id) => {
    const meta = read(join(cri, 'pods', id, 'meta'))?.split('\n');
    if (!meta) return [];
    const [name, namespace, createdAt] = meta;
    const ready = read(join(cri, 'pods', id, 'state'))?.trim() === 'ready';
    return [{ id, name, namespace, uid: (read(join(cri, 'pods', id, 'uid')) ?? '').trim(), createdAt: BigInt(createdAt || '0'), ready }];
  });
}

const imageId = (image) => `sha256:${createHash('sha256').update(image).digest('hex')}`;
const truncate = (id, noTrunc) => (noTrunc ? id : id.slice(0, 13));

function humanDuration(ns) {
  const seconds = Math.floor(Number(ns / 1_000_000_000n));
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(seconds / 3600);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(seconds / 3600 / 24 / 365)} years`;
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** Go's RFC3339Nano: trailing zeros of the fraction dropped. */
function rfc3339Nano(ns) {
  if (ns <= 0n) return '0001-01-01T00:00:00Z';
  const base = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${fraction ? `.${fraction}` : ''}Z`;
}

/** Go's text/tabwriter as crictl sets it up: min width 20, padding 3, blanks. */
function table(rows) {
  const widths = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length + 3, 20)));
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]))).join('')).join('\n');
}

function labels(c) {
  return {
    'io.kubernetes.container.name': c.name,
    'io.kubernetes.pod.name': c.podName,
    'io.kubernetes.pod.namespace': c.namespace,
    'io.kubernetes.pod.uid': c.uid,
  };
}

function annotations(c) {
  return {
    'io.kubernetes.container.hash': createHash('sha256').update(`${c.uid}/${c.name}`).digest('hex').slice(0, 8),
    'io.kubernetes.container.restartCount': String(c.attempt),
    'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
    'io.kubernetes.container.terminationMessagePolicy': 'File',
    'io.kubernetes.pod.terminationGracePeriod': '30',
  };
}

function resolve(prefix) {
  const matches = containers().filter((c) => c.id.startsWith(prefix));
  if (prefix === '' || matches.length === 0) throw new CrictlError(`rpc error: code = NotFound desc = an error occurred when try to find container "${prefix}": not found`);
  if (matches.length > 1) throw new CrictlError(`rpc error: code = Unknown desc = container id prefix "${prefix}" is ambiguous`);
  return matches[0];
}

function parseFlags(args, spec) {
  const flags = {};
  const positional = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    const [key, inline] = arg.startsWith('--') ? arg.slice(2).split(/=(.*)/s) : [undefined, undefined];
    const names = key !== undefined ? [key] : arg.startsWith('-') && arg.length > 1 ? [...arg.slice(1)] : undefined;
    if (!names) {
      positional.push(arg);
      continue;
    }
    for (const short of names) {
      const name = spec.aliases[short] ?? short;
      if (spec.booleans.includes(name)) flags[name] = true;
      else if (spec.strings.includes(name)) flags[name] = inline ?? args[++index];
      else throw new CrictlError(`flag provided but not defined: -${short}`);
    }
  }
  return { flags, positional };
}

const stateNames = { created: 'CONTAINER_CREATED', running: 'CONTAINER_RUNNING', exited: 'CONTAINER_EXITED', unknown: 'CONTAINER_UNKNOWN' };
const stateWords = { CONTAINER_CREATED: 'Created', CONTAINER_RUNNING: 'Running', CONTAINER_EXITED: 'Exited', CONTAINER_UNKNOWN: 'Unknown' };

function ps(args) {
  const { flags } = parseFlags(args, {
    aliases: { a: 'all', q: 'quiet', o: 'output', s: 'state', p: 'pod', v: 'verbose' },
    booleans: ['all', 'quiet', 'no-trunc', 'verbose', 'latest', 'l'],
    strings: ['output', 'state', 'name', 'pod', 'id', 'image', 'namespace', 'label'],
  });
  let wanted = flags.all ? undefined : 'CONTAINER_RUNNING';
  if (flags.state !== undefined) {
    wanted = stateNames[String(flags.state).toLowerCase()];
    if (!wanted) throw new CrictlError('--state should be one of created, running, exited or unknown');
  }
  const nameRe = flags.name ? new RegExp(flags.name) : undefined;
  const namespaceRe = flags.namespace ? new RegExp(flags.namespace) : undefined;
  const list = containers()
    .filter((c) => (wanted ? c.state === wanted : true))
    .filter((c) => (nameRe ? nameRe.test(c.name) : true) && (namespaceRe ? namespaceRe.test(c.namespace) : true))
    .filter((c) => (flags.pod ? c.podId.startsWith(flags.pod) : true) && (flags.id ? c.id.startsWith(flags.id) : true))
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  const output = flags.output ?? 'table';
  if (output === 'json') {
    const items = list.map((c) => ({
      id: c.id,
      podSandboxId: c.podId,
      metadata: { name: c.name, attempt: c.attempt },
      image: { image: imageId(c.image), annotations: {}, userSpecifiedImage: '', runtimeHandler: '' },
      imageRef: imageId(c.image),
      state: c.state,
      createdAt: c.createdAt.toString(),
      labels: labels(c),
      annotations: annotations(c),
      imageId: '',
    }));
    return `${JSON.stringify({ containers: items }, null, 2)}\n`;
  }
  if (output !== 'table') throw new CrictlError(`unsupported output format "${output}"`);
  if (flags.quiet) return list.map((c) => `${c.id}\n`).join('');
  const noTrunc = flags['no-trunc'] === true;
  const rows = [['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD', 'NAMESPACE']];
  for (const c of list) {
    const image = noTrunc ? imageId(c.image) : imageId(c.image).slice('sha256:'.length, 'sha256:'.length + 13);
    rows.push([truncate(c.id, noTrunc), image, `${humanDuration(nowNs() - c.createdAt)} ago`, stateWords[c.state], c.name, String(c.attempt), truncate(c.podId, noTrunc), c.podName, c.namespace]);
  }
  return `${table(rows)}\n`;
}

function podsCommand(args) {
  const { flags } = parseFlags(args, { aliases: { q: 'quiet', o: 'output' }, booleans: ['quiet', 'no-trunc'], strings: ['output', 'name', 'namespace', 'state'] });
  const nameRe = flags.name ? new RegExp(flags.name) : undefined;
  const list = pods()
    .filter((p) => (nameRe ? nameRe.test(p.name) : true))
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  if (flags.output === 'json') {
    const items = list.map((p) => ({
      id: p.id,
      metadata: { name: p.name, uid: p.uid, namespace: p.namespace, attempt: 0 },
      state: p.ready ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
      createdAt: p.createdAt.toString(),
      labels: { 'io.kubernetes.pod.name': p.name, 'io.kubernetes.pod.namespace': p.namespace, 'io.kubernetes.pod.uid': p.uid },
      annotations: { 'kubernetes.io/config.source': 'file' },
      runtimeHandler: '',
    }));
    return `${JSON.stringify({ items }, null, 2)}\n`;
  }
  if (flags.quiet) return list.map((p) => `${p.id}\n`).join('');
  const rows = [['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME']];
  for (const p of list) rows.push([truncate(p.id, flags['no-trunc']), `${humanDuration(nowNs() - p.createdAt)} ago`, p.ready ? 'Ready' : 'NotReady', p.name, p.namespace, '0', '(default)']);
  return `${table(rows)}\n`;
}

const sleep = (ms) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

async function stopOne(c, timeoutSeconds) {
  if (c.state === 'CONTAINER_RUNNING') {
    const signal = (name) => {
      try {
        process.kill(c.pid, name);
      } catch {
        // gone already
      }
    };
    const start = (read(join(c.dir, 'pid')) ?? '').trim().split(' ')[1];
    if (timeoutSeconds > 0) {
      signal('SIGTERM');
      const deadline = Date.now() + timeoutSeconds * 1000;
      while (processAlive(c.pid, start) && Date.now() < deadline) await sleep(100);
    }
    if (processAlive(c.pid, start)) signal('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (!existsSync(join(c.dir, 'exit')) && Date.now() < deadline) await sleep(50);
  }
  if (!existsSync(join(c.dir, 'exit'))) {
    writeFileSync(join(c.dir, 'exit.tmp'), `137 ${nowNs()}\n`);
    renameSync(join(c.dir, 'exit.tmp'), join(c.dir, 'exit'));
  }
}

async function stop(args) {
  const { flags, positional } = parseFlags(args, { aliases: { t: 'timeout', a: 'all' }, booleans: ['all'], strings: ['timeout'] });
  if (positional.length === 0) throw new CrictlError('you must specify at least one CONTAINER-ID or use --all');
  let out = '';
  for (const id of positional) {
    const c = resolve(id);
    await stopOne(c, Number(flags.timeout ?? 0));
    out += `${id}\n`;
  }
  return out;
}

async function rm(args) {
  const { flags, positional } = parseFlags(args, { aliases: { f: 'force', k: 'keep-logs', a: 'all' }, booleans: ['force', 'keep-logs', 'all'], strings: [] });
  if (positional.length === 0) throw new CrictlError('ID cannot be empty');
  let out = '';
  for (const id of positional) {
    const c = resolve(id);
    if (c.state === 'CONTAINER_RUNNING') {
      if (!flags.force) throw new CrictlError(`container "${id}" is running, please stop it first`);
      await stopOne(c, 0);
    }
    rmSync(c.dir, { recursive: true, force: true });
    if (!flags['keep-logs'] && c.logPath) rmSync(c.logPath, { force: true });
    out += `${id}\n`;
  }
  return out;
}

function inspect(args) {
  const { positional } = parseFlags(args, { aliases: { o: 'output', q: 'quiet' }, booleans: ['quiet'], strings: ['output'] });
  if (positional.length === 0) throw new CrictlError('ID cannot be empty');
  return positional
    .map((id) => {
      const c = resolve(id);
      const status = {
        id: c.id,
        metadata: { name: c.name, attempt: c.attempt },
        state: c.state,
        createdAt: rfc3339Nano(c.createdAt),
        startedAt: c.state === 'CONTAINER_CREATED' ? rfc3339Nano(0n) : rfc3339Nano(c.startedAt),
        finishedAt: c.state === 'CONTAINER_EXITED' ? rfc3339Nano(c.finishedAt) : rfc3339Nano(0n),
        exitCode: c.exitCode,
        image: { image: c.image, annotations: {}, userSpecifiedImage: '', runtimeHandler: '' },
        imageRef: imageId(c.image),
        reason: c.state === 'CONTAINER_EXITED' ? (c.exitCode === 0 ? 'Completed' : 'Error') : '',
        message: '',
        labels: labels(c),
        annotations: annotations(c),
        mounts: c.mounts.map(([containerPath, hostPath, readonly]) => ({ containerPath, hostPath, readonly: readonly === 'true', selinuxRelabel: false, propagation: 'PROPAGATION_PRIVATE' })),
        logPath: c.logPath,
      };
      return `${JSON.stringify({ status, info: { sandboxID: c.podId, pid: c.pid } }, null, 2)}\n`;
    })
    .join('');
}

const globalWithValue = new Set(['-r', '--runtime-endpoint', '-i', '--image-endpoint', '-c', '--config', '-t', '--timeout']);

async function main(argv) {
  let index = 0;
  while (index < argv.length && argv[index].startsWith('-')) {
    if (argv[index] === '--version' || argv[index] === '-v') return 'crictl version v1.31.1 (orchestrate lab stand-in)\n';
    index += globalWithValue.has(argv[index]) ? 2 : 1;
  }
  const [command, ...args] = argv.slice(index);
  switch (command) {
    case 'ps':
      return ps(args);
    case 'pods':
      return podsCommand(args);
    case 'stop':
      return stop(args);
    case 'rm':
      return rm(args);
    case 'inspect':
      return inspect(args);
    case 'version':
      return 'Version:  0.1.0\nRuntimeName:  lab-cri (orchestrate lab stand-in)\nRuntimeVersion:  v0\nRuntimeApiVersion:  v1\n';
    default:
      throw new CrictlError(`the lab's stand-in crictl has no command "${command ?? ''}" (it has ps, pods, stop, rm, inspect, version)`);
  }
}

main(process.argv.slice(2)).then(
  (out) => process.stdout.write(out),
  (error) => {
    if (!(error instanceof CrictlError) && !(error instanceof SyntaxError)) throw error;
    process.stderr.write(`time="${new Date().toISOString()}" level=fatal msg=${JSON.stringify(error.message)}\n`);
    process.exitCode = 1;
  },
);
