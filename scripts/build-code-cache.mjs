// Makes V8's code cache for the bundled CLI (bin/load-bundle.mjs): loads dist/orchestrate.cjs, runs what
// every command needs and a small playbook (in a temporary folder) over a local connection and over SSH to
// a throwaway server in this process (ssh2's own, on 127.0.0.1, running the commands with this machine's
// sh), then stores the code compiled so far in dist/orchestrate.cjs.cache. Run by `npm run build` after the bundle,
// with the Node flags bin/orchestrate uses (a cache made under other flags is not used). Failing here only
// means no cache: the CLI then compiles the bundle from source, as fast as before there was one.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundle } from '../bin/load-bundle.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const started = performance.now();
// A build must never hang on its warm-up: after a minute, give up (no cache) and let the build go on.
setTimeout(() => {
  process.stderr.write('code cache: warm-up took over 60 s, not made; the CLI compiles its bundle at each start instead\n');
  process.exit(0);
}, 60_000).unref();
const work = mkdtempSync(join(tmpdir(), 'orchestrate-code-cache-'));
let stopServer = async () => undefined;
try {
  const bundle = loadBundle(join(root, 'dist', 'orchestrate.cjs'), { useCache: false });
  const inventory = join(work, 'inventory.yml');
  const playbook = join(work, 'warm-up.yml');
  writeFileSync(inventory, 'all:\n  hosts:\n    warm-up:\n      ansible_connection: local\n  vars:\n    greeting: hello\n');
  writeFileSync(
    playbook,
    [
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      '    - name: a shell command',
      `      shell: echo "{{ greeting }} from {{ inventory_hostname }}" > ${join(work, 'out.txt')}`,
      '      register: said',
      '    - set_fact: { words: "{{ greeting | upper }}", items: "{{ groups[\'all\'] | join(\',\') }}" }',
      '    - command: cat {{ out }}',
      `      vars: { out: ${join(work, 'out.txt')} }`,
      '      changed_when: false',
      '    - assert: { that: ["said.rc == 0", "words == \'HELLO\'"] }',
      '    - debug: { msg: "{{ items | length }}" }',
      '',
    ].join('\n'),
  );
  const ssh = await startThrowawaySshServer(work);
  const sshInventory = join(work, 'ssh-inventory.yml');
  writeFileSync(
    sshInventory,
    `all:\n  hosts:\n    warm-up:\n      ansible_host: 127.0.0.1\n      ansible_port: ${ssh.port}\n      ansible_user: ${JSON.stringify(userInfo().username)}\n      ansible_ssh_private_key_file: ${JSON.stringify(ssh.keyFile)}\n  vars:\n    greeting: hello\n`,
  );
  stopServer = ssh.stop;
  process.env.CI = '1';
  const { main } = bundle.exports;
  const runs = [
    ['validate', join(root, 'inventories', 'example.yml'), join(root, 'playbooks', 'backup.yml'), join(root, 'playbooks', 'restore.yml')],
    ['run', playbook, '-i', inventory],
    ['run', playbook, '-i', inventory, '--json'],
    ['run', playbook, '-i', inventory, '--dry-run'],
    ['run', playbook, '-i', sshInventory, '--known-hosts', ssh.knownHostsFile],
    ...['run', 'backup', 'restore', 'status', 'snapshots', 'lab'].map((command) => [command, '--help']),
  ];
  for (const argv of runs) {
    const code = await silently(() => main(argv));
    if (code !== 0) throw new Error(`warm-up \`orchestrate ${argv.join(' ')}\` exited ${code}`);
  }
  bundle.saveCache();
  process.stderr.write(`code cache: dist/orchestrate.cjs.cache in ${(performance.now() - started).toFixed(0)} ms\n`);
} catch (error) {
  process.stderr.write(
    `code cache: not made (${error instanceof Error ? error.message : String(error)}); the CLI compiles its bundle at each start instead\n`,
  );
} finally {
  await stopServer();
  rmSync(work, { recursive: true, force: true });
}

/** Runs `work` with stdout and stderr swallowed: the warm-up's output is not wanted in the build's. */
async function silently(work) {
  const saved = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = () => true;
  process.stderr.write = () => true;
  try {
    return await work();
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
  }
}

/**
 * ssh2's server on an ephemeral port of 127.0.0.1 that accepts one generated key and runs each command
 * with `sh -c` here, as sshd would; closed by `stop` (and after 60 s whatever happens).
 */
async function startThrowawaySshServer(dir) {
  const ssh2 = createRequire(join(root, 'package.json'))('ssh2');
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519');
  const userKey = ssh2.utils.generateKeyPairSync('ed25519');
  const allowed = ssh2.utils.parseKey(userKey.public);
  const keyFile = join(dir, 'id_ed25519');
  writeFileSync(keyFile, userKey.private, { mode: 0o600 });
  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (context) => {
      const ours = context.method === 'publickey' && context.key.algo === allowed.type && context.key.data.equals(allowed.getPublicSSH());
      if (!ours || (context.signature && !allowed.verify(context.blob, context.signature, context.hashAlgo))) return context.reject(['publickey']);
      context.accept();
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        acceptSession().on('exec', (acceptExec, _reject, info) => {
          const channel = acceptExec();
          const child = spawn('sh', ['-c', info.command], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
          channel.pipe(child.stdin).on('error', () => undefined);
          child.stdout.pipe(channel, { end: false });
          child.stderr.pipe(channel.stderr, { end: false });
          child.on('close', (code, signal) => {
            channel.exit(signal ? signal.replace(/^SIG/, '') : (code ?? 0));
            channel.end();
          });
        });
      });
    });
  });
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).on('error', reject));
  const backstop = setTimeout(() => server.close(), 60_000);
  const { port } = server.address();
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostKey.public.trim().split(' ').slice(0, 2).join(' ')}\n`);
  return {
    port,
    keyFile,
    knownHostsFile,
    stop: () =>
      new Promise((resolve) => {
        clearTimeout(backstop);
        server.close(() => resolve(undefined));
      }),
  };
}
