// Makes V8's code cache for the bundled CLI (bin/load-bundle.mjs): loads dist/orchestrate.cjs, runs what
// every command needs and a small playbook on this machine (local connection, in a temporary folder), then
// stores the code compiled so far in dist/orchestrate.cjs.cache. Run by `npm run build` after the bundle,
// with the Node flags bin/orchestrate uses (a cache made under other flags is not used). Failing here only
// means no cache: the CLI then compiles the bundle from source, as fast as before there was one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundle } from '../bin/load-bundle.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const started = performance.now();
const work = mkdtempSync(join(tmpdir(), 'orchestrate-code-cache-'));
const quiet = { stdout: process.stdout.write, stderr: process.stderr.write };
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
  process.env.CI = '1';
  process.stdout.write = () => true;
  process.stderr.write = () => true;
  const { main } = bundle.exports;
  for (const argv of [
    ['validate', join(root, 'inventories', 'example.yml'), join(root, 'playbooks', 'backup.yml'), join(root, 'playbooks', 'restore.yml')],
    ['run', playbook, '-i', inventory],
    ['run', playbook, '-i', inventory, '--json'],
    ['run', playbook, '-i', inventory, '--dry-run'],
    ...['run', 'backup', 'restore', 'status', 'snapshots', 'lab'].map((command) => [command, '--help']),
  ]) {
    const code = await main(argv);
    if (code !== 0) throw new Error(`warm-up \`orchestrate ${argv.join(' ')}\` exited ${code}`);
  }
  Object.assign(process.stdout, { write: quiet.stdout });
  Object.assign(process.stderr, { write: quiet.stderr });
  bundle.saveCache();
  process.stderr.write(`code cache: dist/orchestrate.cjs.cache in ${(performance.now() - started).toFixed(0)} ms\n`);
} catch (error) {
  Object.assign(process.stdout, { write: quiet.stdout });
  Object.assign(process.stderr, { write: quiet.stderr });
  process.stderr.write(`code cache: not made (${error instanceof Error ? error.message : String(error)}); the CLI compiles its bundle at each start instead\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
