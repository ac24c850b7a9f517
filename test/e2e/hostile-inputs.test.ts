// Hostile inputs against the BUILT CLI (bin/orchestrate, run `npm run build` first), as a child process
// with a deadline. Every case runs in its own temporary folder holding copies of test/fixtures/hostile
// (with `__TMP__` replaced by that folder) and checks: the exact exit code, no stack trace, the key
// fragments of the message (file and line for configuration problems), a bounded run time, and that
// nothing in the folder changed (no backup_dir, catalog, journal, and no `pwned` canary of an injection).
// No lab is needed: unreachable members use port 1 of loopback; "hosts" that must run commands are the
// deploy host itself (ansible_connection: local), with every path inside the temporary folder.
import { expect } from 'chai';
import { spawn, execFileSync } from 'node:child_process';
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const cli = join(root, 'bin', 'orchestrate');
const fixtures = join(root, 'test', 'fixtures', 'hostile');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Run the CLI; SIGKILL at the deadline (a first SIGTERM only asks it to stop between steps). */
function orchestrate(args: string[], cwd: string, timeoutMs: number): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1', HOME: cwd, NO_COLOR: '1' };
  delete env.ORCHESTRATE_DEBUG;
  delete env.SSH_AUTH_SOCK;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cli, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(); // not a terminal, and nothing to read
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

/** Every entry under `dir` with its type, size and modification time. */
async function tree(dir: string, prefix = ''): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  for (const name of (await readdir(join(dir, prefix))).sort()) {
    const relative = join(prefix, name);
    const info = await lstat(join(dir, relative));
    const kind = info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'link' : info.isFIFO() ? 'fifo' : 'file';
    entries.set(relative, `${kind} ${info.size} ${info.mtimeMs} ${(info.mode & 0o7777).toString(8)}`);
    if (kind === 'dir') for (const [key, value] of await tree(dir, relative)) entries.set(key, value);
  }
  return entries;
}

/** 1-based line of the first line containing `needle` in a fixture (after `__TMP__` replacement). */
async function lineOf(dir: string, file: string, needle: string): Promise<number> {
  const index = (await readFile(join(dir, file), 'utf8')).split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`${needle} not in ${file}`);
  return index + 1;
}

function expectNoStackTrace(result: CliResult): void {
  const output = `${result.stdout}\n${result.stderr}`;
  expect(output, 'a stack trace was printed').to.not.match(/^\s+at \S.*(:\d+:\d+\)?|\(native\))$/m);
  expect(output).to.not.include('node:internal');
  expect(output).to.not.include('internal error');
}

interface Workspace {
  dir: string;
}

async function workspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'orchestrate-hostile-'));
  for (const name of await readdir(fixtures)) {
    if (name.endsWith('.md')) continue;
    if (name.endsWith('.yml')) await writeFile(join(dir, name), (await readFile(join(fixtures, name), 'utf8')).replaceAll('__TMP__', dir));
    else await copyFile(join(fixtures, name), join(dir, name));
  }
  return { dir };
}

interface Case {
  name: string;
  /** Prepares extra files in the workspace (before the "nothing changed" baseline is taken). */
  setup?: (dir: string) => Promise<void>;
  args: (dir: string) => string[];
  code: number;
  /** Fragments of stderr; a function may compute file:line from the workspace. */
  stderr?: (dir: string) => Promise<(string | RegExp)[]> | (string | RegExp)[];
  stdout?: (dir: string) => Promise<(string | RegExp)[]> | (string | RegExp)[];
  notInOutput?: (string | RegExp)[];
  /** Bound on the run time (the CLI is killed at twice this). */
  maxMs?: number;
  /** Extra checks on the result. */
  check?: (result: CliResult, dir: string) => Promise<void> | void;
}

const where = (file: string, needle: string) => async (dir: string) => [`${file}:${await lineOf(dir, file, needle)}:`];

function concat(...parts: ((dir: string) => Promise<(string | RegExp)[]> | (string | RegExp)[])[]) {
  return async (dir: string) => (await Promise.all(parts.map(async (part) => part(dir)))).flat();
}
const fixed =
  (...fragments: (string | RegExp)[]) =>
  () =>
    fragments;

async function corruptCopy(dir: string, name: string): Promise<void> {
  const bytes = await readFile(join(dir, 'snapshot.db'));
  bytes.write('XXXX', 5000, 'latin1'); // inside the bbolt data: the sha256 trailer no longer matches
  await writeFile(join(dir, name), bytes);
}

/** A name with spaces, both quotes, a `$()` and a `;`: it must reach no shell and be printed as is. */
const nastySnapshotName = `it's a "snap" $(touch pwned); x.db`;

const cases: Case[] = [
  // --- values in inventories that would become shell syntax or options ---
  {
    name: 'validate: etcd_name with "; touch" is refused at its line',
    args: () => ['validate', 'inventory-etcd-name-injection.yml'],
    code: 2,
    stderr: concat(where('inventory-etcd-name-injection.yml', 'etcd_name:'), fixed('etcd member name', 'expected: letters, digits')),
  },
  {
    name: 'backup: the same inventory changes nothing (no backup_dir, no catalog)',
    args: () => ['backup', 'inventory-etcd-name-injection.yml'],
    code: 2,
    stderr: where('inventory-etcd-name-injection.yml', 'etcd_name:'),
  },
  {
    name: 'restore --dry-run: the same inventory is refused before any host is contacted',
    args: () => ['restore', 'inventory-etcd-name-injection.yml', '--dry-run', '--snapshot', 'snapshot.db'],
    code: 2,
    stderr: where('inventory-etcd-name-injection.yml', 'etcd_name:'),
  },
  {
    name: 'validate: ansible_host "-oProxyCommand=..." is refused',
    args: () => ['validate', 'inventory-proxycommand-host.yml'],
    code: 2,
    stderr: concat(where('inventory-proxycommand-host.yml', 'ansible_host:'), fixed('ansible_host', 'starts with "-"')),
  },
  {
    name: 'run: an ansible_host that is an ssh option never reaches ssh',
    args: () => ['run', 'playbook-ping.yml', '-i', 'inventory-proxycommand-host.yml'],
    code: 2,
    stderr: fixed('ansible_host', 'starts with "-"'),
  },
  {
    name: 'validate: a host name with a line break is refused and printed escaped',
    args: () => ['validate', 'inventory-newline-host.yml'],
    code: 2,
    stderr: concat(where('inventory-newline-host.yml', '127.0.0.11\\n'), fixed('invalid name', '127.0.0.11\\ntouch')),
    notInOutput: ['127.0.0.11\ntouch'],
  },
  {
    name: 'run: a host name with a line break',
    args: () => ['run', 'playbook-ping.yml', '-i', 'inventory-newline-host.yml'],
    code: 2,
    stderr: fixed('invalid name'),
  },
  {
    name: 'validate: a peer URL with a space',
    args: () => ['validate', 'inventory-peer-url-space.yml'],
    code: 2,
    stderr: concat(where('inventory-peer-url-space.yml', 'etcd_peer_url:'), fixed('etcd_peer_url', 'is not a URL', 'expected: a URL')),
  },
  {
    name: 'validate: a cluster token with a line break (it labels metrics and names the catalog)',
    setup: (dir) =>
      writeFile(
        join(dir, 'token.yml'),
        'all:\n  vars:\n    etcd_cluster_token: "c0\\nevil_metric 1"\n  children:\n    etcd:\n      hosts:\n        127.0.0.11:\n',
      ),
    args: () => ['validate', 'token.yml'],
    code: 2,
    stderr: fixed('token.yml:3:', 'etcd_cluster_token', 'control character'),
  },
  {
    name: 'validate: backup_dir naming a file',
    setup: (dir) => writeFile(join(dir, 'not-a-folder'), 'precious\n'),
    args: () => ['validate', 'inventory-backup-dir-file.yml'],
    code: 2,
    stderr: concat(where('inventory-backup-dir-file.yml', 'backup_dir:'), fixed('is a file, not a folder', 'fix: point backup_dir at a folder')),
  },
  {
    name: 'backup: backup_dir naming a file writes no catalog and no metrics',
    setup: (dir) => writeFile(join(dir, 'not-a-folder'), 'precious\n'),
    args: () => ['backup', 'inventory-backup-dir-file.yml'],
    code: 2,
    stderr: concat(where('inventory-backup-dir-file.yml', 'backup_dir:'), fixed('is a file, not a folder')),
  },
  {
    name: 'status: backup_dir naming a file',
    setup: (dir) => writeFile(join(dir, 'not-a-folder'), 'precious\n'),
    args: () => ['status', 'inventory-backup-dir-file.yml', '--max-age', '6h'],
    code: 2,
    stderr: where('inventory-backup-dir-file.yml', 'backup_dir:'),
  },
  {
    name: 'snapshots list: backup_dir naming a file',
    setup: (dir) => writeFile(join(dir, 'not-a-folder'), 'precious\n'),
    args: () => ['snapshots', 'list', 'inventory-backup-dir-file.yml'],
    code: 2,
    stderr: where('inventory-backup-dir-file.yml', 'backup_dir:'),
  },
  {
    name: 'status: the default backups folder is a file',
    setup: (dir) => writeFile(join(dir, 'backups'), 'not a folder\n'),
    args: () => ['status', 'inventory-key-device.yml', '--max-age', '6h'],
    code: 2,
    stderr: fixed('backup_dir', 'is a file, not a folder'),
  },

  // --- data dirs that are shell syntax: legal paths, so they must be quoted everywhere ---
  {
    name: 'validate: data dirs with $(), backquotes, quotes and && are legal paths',
    args: () => ['validate', 'inventory-restore-local.yml'],
    code: 0,
    stdout: fixed('OK inventory-restore-local.yml'),
  },
  {
    name: 'restore --dry-run: every data dir is quoted in the plan and nothing is created',
    args: () => ['restore', 'inventory-restore-local.yml', '--snapshot', 'snapshot.db', '--dry-run'],
    code: 0,
    maxMs: 15_000,
    stdout: (dir) => [
      `--data-dir '${dir}/data1$(touch pwned-a)'\\''"; touch pwned-b #.restore-`,
      `--data-dir '${dir}/data2\`touch pwned-c\`.restore-`,
      `--data-dir '${dir}/data3 && touch pwned-d.restore-`,
      `mv '${dir}/data3 && touch pwned-d.restore-`,
      '--name etcd-m1',
      'nothing was changed',
    ],
  },
  {
    name: 'restore without --yes and without a terminal refuses (5) and changes nothing',
    args: () => ['restore', 'inventory-restore-local.yml', '--snapshot', 'snapshot.db'],
    code: 5,
    maxMs: 15_000,
    stderr: fixed('refusing to restore without confirmation', '--yes', 'nothing was changed'),
  },
  {
    name: 'restore of a corrupted snapshot refuses (5) before any host is touched',
    setup: (dir) => corruptCopy(dir, 'corrupted.db'),
    args: () => ['restore', 'inventory-restore-local.yml', '--snapshot', 'corrupted.db', '--yes'],
    code: 5,
    stderr: fixed('corrupted.db', 'failed verification', 'no host was touched'),
  },
  {
    name: 'restore of a missing snapshot refuses (5)',
    args: () => ['restore', 'inventory-restore-local.yml', '--snapshot', 'missing.db', '--yes'],
    code: 5,
    stderr: fixed('missing.db'),
  },
  {
    name: 'restore --snapshot /dev/zero refuses (5) at once',
    args: () => ['restore', 'inventory-restore-local.yml', '--snapshot', '/dev/zero', '--yes'],
    code: 5,
    maxMs: 5_000,
    stderr: fixed('/dev/zero', 'not a file'),
  },

  // --- playbook values in shell lines, on the deploy host itself ---
  {
    name: 'run: values that are shell syntax arrive as literal text in every place of a shell line',
    args: (dir) => ['run', 'playbook-injection.yml', '-i', 'inventory-local.yml', '-e', `extra=$(touch\${IFS}${dir}/pwned-6)`, '--json'],
    code: 0,
    check: (result, dir) => {
      const tails = new Map<string, string>();
      for (const line of result.stdout.split('\n').filter(Boolean)) {
        const event = JSON.parse(line) as { event: string; task?: string; status?: string; stdout_tail?: string };
        if (event.event === 'host_result') {
          expect(event.status, `${event.task}: ${line}`).to.equal('changed');
          tails.set(event.task ?? '', event.stdout_tail ?? '');
        }
      }
      expect(Object.fromEntries(tails)).to.deep.equal({
        bare: `; touch ${dir}/pwned-1 #|`,
        'in double quotes': `$(touch ${dir}/pwned-2)|a"; touch ${dir}/pwned-4; "b|`,
        'in single quotes': `'; touch ${dir}/pwned-3; '|`,
        'in a command substitution': `$(touch ${dir}/pwned-2)|`,
        'in a here-document': `$(touch ${dir}/pwned-2) x\ntouch ${dir}/pwned-5`,
        'from -e': `$(touch\${IFS}${dir}/pwned-6)|`,
      });
    },
  },
  {
    name: 'run --dry-run: the preview shows each value escaped for its place and runs nothing',
    args: () => ['run', 'playbook-injection.yml', '-i', 'inventory-local.yml', '-e', '{"extra": "$(touch pwned-7); x"}', '--dry-run'],
    code: 0,
    // Inside "...", the quotes close around the shellQuote'd value and reopen: one word, literal text.
    stdout: (dir) => [
      `printf '%s|' ""'$(touch ${dir}/pwned-2)'"" "a"'"; touch ${dir}/pwned-4; "'"b"`,
      `printf '%s|' '$(touch pwned-7); x'`,
      'nothing was changed',
    ],
  },
  {
    name: "run -e 'x=$(touch ...)' with a space is not key=value: a usage error naming -e",
    args: (dir) => ['run', 'playbook-injection.yml', '-i', 'inventory-local.yml', '-e', `extra=$(touch ${dir}/pwned-8)`],
    code: 2,
    stderr: fixed('-e extra=$(touch', 'expected key=value'),
  },
  {
    name: 'run: a {{ }} inside backquotes is refused at its task, before anything runs',
    args: () => ['run', 'playbook-backquote.yml', '-i', 'inventory-local.yml'],
    code: 2,
    stderr: concat(where('playbook-backquote.yml', '- name: backquotes'), fixed('write $(...) instead of backquotes')),
  },
  {
    name: 'run: a service name that is a systemctl option is refused',
    args: () => ['run', 'playbook-service-option.yml', '-i', 'inventory-local.yml'],
    code: 2,
    stderr: concat(where('playbook-service-option.yml', '- name:'), fixed('is not a unit name')),
  },
  {
    name: 'run: copy from /dev/zero fails the task at once instead of reading forever',
    args: () => ['run', 'playbook-copy-device.yml', '-i', 'inventory-local.yml'],
    code: 3,
    maxMs: 10_000,
    stdout: fixed('/dev/zero on the deploy host is not a regular file'),
  },

  // --- snapshot files ---
  {
    name: 'snapshots verify: a path with spaces, quotes and $() is verified and printed as is',
    setup: (dir) => copyFile(join(dir, 'snapshot.db'), join(dir, nastySnapshotName)),
    args: () => ['snapshots', 'verify', nastySnapshotName],
    code: 0,
    stdout: fixed(`${nastySnapshotName}: ok`, 'revision 2, 5 keys'),
  },
  {
    name: 'snapshots verify: a corrupted file with such a name exits 3',
    setup: (dir) => corruptCopy(dir, nastySnapshotName),
    args: () => ['snapshots', 'verify', nastySnapshotName],
    code: 3,
    stdout: fixed(`${nastySnapshotName}: BAD`, 'trailer'),
  },
  {
    name: 'snapshots verify: a FIFO exits 3 at once instead of waiting for a writer',
    setup: async (dir) => void execFileSync('mkfifo', [join(dir, 'pipe.db')]),
    args: () => ['snapshots', 'verify', 'pipe.db'],
    code: 3,
    maxMs: 5_000,
    stdout: fixed('pipe.db: BAD', 'not a regular file'),
  },
  {
    name: 'snapshots verify: /dev/zero and a folder exit 3',
    setup: (dir) => mkdir(join(dir, 'a-folder.db')),
    args: () => ['snapshots', 'verify', '/dev/zero', 'a-folder.db'],
    code: 3,
    maxMs: 5_000,
    stdout: fixed('/dev/zero: BAD', 'a-folder.db: BAD'),
  },

  // --- files that are not what they claim ---
  {
    name: 'validate: billion laughs (YAML aliases) is refused in bounded time',
    args: () => ['validate', 'billion-laughs.yml'],
    code: 2,
    maxMs: 5_000,
    stderr: fixed('billion-laughs.yml:1:1:', 'alias'),
  },
  {
    name: 'run: billion laughs in a playbook',
    args: () => ['run', 'billion-laughs-playbook.yml', '-i', 'inventory-local.yml'],
    code: 2,
    maxMs: 5_000,
    stderr: fixed('billion-laughs-playbook.yml:1:1:', 'alias'),
  },
  {
    name: 'validate: a 5 MB inventory (20,000 hosts) loads in bounded time',
    setup: async (dir) => {
      const lines = ['all:', '  children:', '    etcd:', '      hosts:', '        127.0.0.11:', '    kube_node:', '      hosts:'];
      let size = 0;
      for (let i = 0; size < 5 * 1024 * 1024; i++) {
        const line = `        node-${String(i).padStart(6, '0')}: { note: "${'x'.repeat(220)}" }`;
        lines.push(line);
        size += line.length + 1;
      }
      await writeFile(join(dir, 'five-mb.yml'), `${lines.join('\n')}\n`);
    },
    args: () => ['validate', 'five-mb.yml'],
    code: 0,
    maxMs: 30_000,
    stdout: fixed(/OK five-mb\.yml \(inventory, 2\d{4} hosts/),
  },
  {
    name: 'validate: a 10,000-task playbook is read whole',
    setup: async (dir) => {
      const lines = ['- hosts: localhost', '  gather_facts: false', '  tasks:'];
      for (let i = 0; i < 10_000; i++) lines.push(`    - name: task ${i}`, `      shell: echo ${i}`);
      await writeFile(join(dir, 'ten-k-tasks.yml'), `${lines.join('\n')}\n`);
    },
    args: () => ['validate', 'ten-k-tasks.yml'],
    code: 0,
    maxMs: 60_000,
    stdout: fixed('OK ten-k-tasks.yml (playbook, 1 play, 10000 tasks)'),
  },
  {
    name: 'validate: 4 MB of flow items (2,000,000 values) is refused before parsing, at its line, not parsed for minutes',
    setup: (dir) => writeFile(join(dir, 'dense.yml'), `all:\n  vars:\n    x: [${'0,'.repeat(2_000_000)}0]\n`),
    args: () => ['validate', 'dense.yml'],
    code: 2,
    maxMs: 30_000,
    stderr: fixed('dense.yml:3:', 'more than 100,000 lines and flow items', 'fix: split it'),
  },
  {
    name: 'run: a task whose command is a 1 MB line fails with the reason, not E2BIG',
    setup: (dir) =>
      writeFile(join(dir, 'long-line.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - shell: echo ${'x'.repeat(1024 * 1024)}\n`),
    args: () => ['run', 'long-line.yml', '-i', 'inventory-local.yml'],
    code: 3,
    maxMs: 30_000,
    stdout: fixed('the command is 1024 KiB', 'at most 128 KiB', 'put the script in a file'),
  },
  {
    name: 'validate: a 40 MB file is refused by its size, unread',
    setup: async (dir) => {
      await writeFile(join(dir, 'huge.yml'), '');
      await truncate(join(dir, 'huge.yml'), 40 * 1024 * 1024); // sparse: costs no disk
    },
    args: () => ['validate', 'huge.yml'],
    code: 2,
    maxMs: 5_000,
    stderr: fixed('cannot read huge.yml', 'it is 40.0 MiB; the limit is 32.0 MiB'),
  },
  {
    name: 'validate: /dev/zero as an inventory ends at once',
    args: () => ['validate', '/dev/zero'],
    code: 2,
    maxMs: 5_000,
    stderr: fixed('cannot read /dev/zero', 'not a regular file'),
  },
  {
    name: 'status: /dev/zero as an inventory',
    args: () => ['status', '/dev/zero', '--max-age', '6h'],
    code: 2,
    maxMs: 5_000,
    stderr: fixed('cannot read inventory /dev/zero', 'not a regular file'),
  },
  {
    name: 'run: /dev/zero as an inventory',
    args: () => ['run', 'playbook-ping.yml', '-i', '/dev/zero'],
    code: 2,
    maxMs: 5_000,
    stderr: fixed('/dev/zero', 'not a regular file'),
  },
  {
    name: 'validate: a FIFO as an inventory ends at once',
    setup: async (dir) => void execFileSync('mkfifo', [join(dir, 'pipe.yml')]),
    args: () => ['validate', 'pipe.yml'],
    code: 2,
    maxMs: 5_000,
    stderr: fixed('cannot read pipe.yml', 'not a regular file'),
  },
  {
    name: 'validate: a symlink loop',
    setup: async (dir) => {
      await symlink('loop-b.yml', join(dir, 'loop-a.yml'));
      await symlink('loop-a.yml', join(dir, 'loop-b.yml'));
    },
    args: () => ['validate', 'loop-a.yml'],
    code: 2,
    stderr: fixed('cannot read loop-a.yml', 'symbolic links'),
  },
  {
    // A folder is an inventory folder (a kubeasz cluster folder); one without an inventory says what it looked for.
    name: 'validate: a folder without an inventory',
    setup: (dir) => mkdir(join(dir, 'folder.yml')),
    args: () => ['validate', 'folder.yml'],
    code: 2,
    stderr: fixed('the folder folder.yml holds no inventory: none of hosts, hosts.yml'),
  },
  {
    name: 'validate: a missing file',
    args: () => ['validate', 'missing.yml'],
    code: 2,
    stderr: fixed('cannot read missing.yml: no such file'),
  },
  {
    name: 'validate: an empty file',
    setup: (dir) => writeFile(join(dir, 'empty.yml'), ''),
    args: () => ['validate', 'empty.yml'],
    code: 2,
    stderr: fixed('empty.yml:1:1:', 'empty'),
  },
  {
    name: 'validate: a BOM and CRLF line endings are fine',
    setup: (dir) => writeFile(join(dir, 'windows.yml'), '\ufeffall:\r\n  children:\r\n    etcd:\r\n      hosts:\r\n        127.0.0.11:\r\n'),
    args: () => ['validate', 'windows.yml'],
    code: 0,
    stdout: fixed('OK windows.yml (inventory, 1 host, 1 etcd member)'),
  },
  {
    name: 'validate: bytes that are not UTF-8 are named with their line',
    setup: (dir) =>
      writeFile(
        join(dir, 'latin1.yml'),
        Buffer.from('all:\n  children:\n    etcd:\n      hosts:\n        127.0.0.11:\n          etcd_name: "caf\xe9"\n', 'latin1'),
      ),
    args: () => ['validate', 'latin1.yml'],
    code: 2,
    stderr: fixed('latin1.yml:6:', 'not UTF-8', 'byte 0xe9', 'fix: save the file as UTF-8'),
  },
  {
    name: 'validate: a NUL byte in a value',
    setup: (dir) => writeFile(join(dir, 'nul.yml'), 'all:\n  children:\n    etcd:\n      hosts:\n        127.0.0.11:\n          etcd_name: "a\0b"\n'),
    args: () => ['validate', 'nul.yml'],
    code: 2,
    stderr: fixed('nul.yml:6:', 'etcd member name "a\\u0000b"'),
    notInOutput: ['\0'],
  },
  {
    name: 'validate: terminal escape sequences in a file are printed escaped, never raw',
    setup: (dir) =>
      writeFile(
        join(dir, 'escape.yml'),
        'all:\n  children:\n    etcd:\n      hosts:\n        127.0.0.11:\n          etcd_name: "\x1b]0;owned\x07\x1b[2J"\n',
      ),
    args: () => ['validate', 'escape.yml'],
    code: 2,
    stderr: fixed('escape.yml:6:', '\\u001b'),
    notInOutput: ['\x1b', '\x07'],
  },
  {
    name: 'validate: 20,000 nested brackets',
    setup: (dir) => writeFile(join(dir, 'deep.yml'), `all:\n  vars:\n    x: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`),
    args: () => ['validate', 'deep.yml'],
    code: 2,
    maxMs: 5_000,
    stderr: fixed('deep.yml:3:'),
  },

  // --- credentials that are devices or FIFOs ---
  {
    name: 'run: a private key path naming /dev/zero fails that host at once (no memory blow-up)',
    args: () => ['run', 'playbook-ping.yml', '-i', 'inventory-key-device.yml'],
    code: 4,
    maxMs: 5_000,
    stdout: fixed('cannot read private key /dev/zero', 'not a regular file'),
  },
  {
    name: 'run: --known-hosts naming a FIFO fails that host at once',
    setup: async (dir) => {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')], { timeout: 10_000 });
      execFileSync('mkfifo', [join(dir, 'known_hosts')]);
    },
    args: () => ['run', 'playbook-ping.yml', '-i', 'inventory-known-hosts-fifo.yml', '--known-hosts', 'known_hosts'],
    code: 4,
    maxMs: 5_000,
    stdout: fixed('known hosts', 'not a regular file'),
  },

  // --- the command line ---
  {
    name: 'an unknown command',
    args: () => ['frobnicate', 'inventory-local.yml'],
    code: 2,
    stderr: fixed('unknown command "frobnicate"', 'usage: orchestrate'),
  },
  {
    name: 'an unknown option',
    args: () => ['validate', '--bogus', 'inventory-local.yml'],
    code: 2,
    stderr: fixed("Unknown option '--bogus'", 'fix: run'),
  },
  {
    name: '--forks 0',
    args: () => ['run', 'playbook-ping.yml', '-i', 'inventory-local.yml', '--forks', '0'],
    code: 2,
    stderr: fixed('--forks must be a positive whole number, not "0"'),
  },
  {
    name: '--max-age banana',
    args: () => ['status', 'inventory-restore-local.yml', '--max-age', 'banana'],
    code: 2,
    stderr: fixed('--max-age', '"banana"'),
  },
  {
    name: 'lab up --net outside 127.0.0.0/8 creates no lab',
    args: () => ['lab', 'up', '--net', '10.0.0', '--dir', 'lab'],
    code: 2,
    stderr: fixed('--net must be', '127.0.0.0/8'),
  },
];

describe('hostile inputs against the built CLI (e2e, no lab)', function () {
  this.timeout(60_000);

  before(async function () {
    try {
      await lstat(join(root, 'dist', 'cli', 'main.js'));
    } catch {
      throw new Error('dist/ is missing: build first (npx tsc -p tsconfig.build.json && node scripts/build-validators.mjs)');
    }
  });

  for (const testCase of cases) {
    it(testCase.name, async () => {
      const { dir } = await workspace();
      try {
        await testCase.setup?.(dir);
        const before = await tree(dir);
        const maxMs = testCase.maxMs ?? 10_000;
        const result = await orchestrate(testCase.args(dir), dir, maxMs * 2);
        const shown = `exit ${result.code} in ${result.ms} ms\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
        expect(result.timedOut, `killed after ${maxMs * 2} ms\n${shown}`).to.equal(false);
        expect(result.code, shown).to.equal(testCase.code);
        expect(result.ms, `took too long\n${shown}`).to.be.below(maxMs);
        expectNoStackTrace(result);
        for (const fragment of (await testCase.stderr?.(dir)) ?? []) {
          if (typeof fragment === 'string') expect(result.stderr, shown).to.include(fragment);
          else expect(result.stderr, shown).to.match(fragment);
        }
        for (const fragment of (await testCase.stdout?.(dir)) ?? []) {
          if (typeof fragment === 'string') expect(result.stdout, shown).to.include(fragment);
          else expect(result.stdout, shown).to.match(fragment);
        }
        for (const fragment of testCase.notInOutput ?? []) {
          if (typeof fragment === 'string') expect(result.stdout + result.stderr, shown).to.not.include(fragment);
          else expect(result.stdout + result.stderr, shown).to.not.match(fragment);
        }
        await testCase.check?.(result, dir);
        // Nothing was created, changed or removed in the workspace (no backup_dir, catalog, journal, canary).
        expect(Object.fromEntries(await tree(dir)), 'the workspace changed').to.deep.equal(Object.fromEntries(before));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
