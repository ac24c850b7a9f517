// `orchestrate run` end to end on a lab of real sshd + etcd hosts (net 127.0.102), through the built CLI.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { etcdctlInLab, readSystemctlLog, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'orchestrate');
const fixtures = join(root, 'test', 'fixtures', 'playbooks');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(args: string[], timeoutMs = 90_000, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The compiled CLI must match the sources: build when dist is missing or older than the engine. */
function ensureBuilt(): void {
  const entry = join(root, 'dist', 'engine', 'run-playbook.js');
  const source = join(root, 'src', 'engine', 'run-playbook.ts');
  if (existsSync(entry) && statSync(entry).mtimeMs >= statSync(source).mtimeMs) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'ignore', timeout: 300_000 });
  } catch {
    // Type errors elsewhere still emit JavaScript; the check below is what matters.
  }
  if (!existsSync(entry)) throw new Error('dist/ is missing: run `npm run build`');
}

/** Every file of a host's own layer (path, size, mtime), leaving out what etcd itself keeps writing. */
function hostFiles(lab: LabInfo, upperDir: string): string[] {
  const skip = ['var/lib/etcd', lab.unitLogDir.replace(/^\/+/, '')];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const rel = relative(upperDir, path);
      if (skip.some((s) => rel === s || rel.startsWith(`${s}/`))) continue;
      const info = lstatSync(path);
      out.push(`${rel} ${info.size} ${info.mtimeMs} ${info.mode.toString(8)}`);
      if (info.isDirectory()) walk(path);
    }
  };
  walk(upperDir);
  return out.sort();
}

describe('orchestrate run (end to end, lab 127.0.102)', function () {
  this.timeout(180_000);
  let lab: LabInfo;
  /** Set before the lab starts, so after() cleans up even when before() failed half-way. */
  let labDir: string | undefined;
  let work: string;

  before(async function () {
    this.timeout(400_000);
    ensureBuilt();
    labDir = tempLabDir();
    lab = await startLab({ dir: labDir, net: '127.0.102', members: 3 });
    work = mkdtempSync(join(tmpdir(), 'orchestrate-run-e2e-'));
  });

  after(async function () {
    this.timeout(60_000);
    if (labDir) await stopLab(labDir);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const base = (): string[] => ['-i', lab.inventoryFile, '--known-hosts', lab.knownHostsFile];

  it('runs a kubeasz-shaped playbook: set_fact loop, until/retries, run_once + delegate_to, ignore_errors', async () => {
    const backups = join(work, 'backups');
    const result = await cli(['run', join(fixtures, 'kubeasz-etcd.yml'), ...base(), '--json', '-e', `local_backup_dir=${backups}`]);
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    const events = jsonLines(result.stdout);
    expect(events[0]?.event).to.equal('run_start');
    expect(events.at(-1)?.event).to.equal('recap');
    const hostResults = events.filter((e) => e.event === 'host_result');
    const report = hostResults.filter((e) => e.task === 'report').map((e) => e.msg as string);
    expect(report).to.have.length(3);
    for (const line of report) {
      expect(line).to.contain('endpoints=https://127.0.102.1:2379,https://127.0.102.2:2379,https://127.0.102.3:2379');
      expect(line).to.contain('attempts=3');
      expect(line).to.contain('members=3');
      expect(line).to.contain('status_entries=3');
      expect(line).to.not.contain('optional_rc=0');
    }
    const retries = events.filter((e) => e.event === 'host_retry' && e.task === 'count attempts on a flaky check (succeeds on the third try)');
    expect(retries).to.have.length(6);
    const ignored = hostResults.filter((e) => e.task === 'a check that may fail');
    expect(ignored.map((e) => [e.status, e.ignored])).to.deep.equal([
      ['failed', true],
      ['failed', true],
      ['failed', true],
    ]);
    const once = hostResults.filter((e) => e.task === 'cluster-wide status, once, from the deploy host');
    expect(once.map((e) => e.delegated_to ?? null)).to.include('localhost');
    expect(once.filter((e) => e.run_once_from !== undefined)).to.have.length(2);
    expect((statSync(backups).mode & 0o777).toString(8)).to.equal('700');
    const recap = events.at(-1) as { hosts: Record<string, { failed: number; ignored: number }> };
    for (const host of lab.hosts) expect(recap.hosts[host.address]).to.deep.include({ failed: 0, ignored: 1 });
  });

  it("hands NODE_EXTRA_CA_CERTS (kept from Node's start-up by bin/orchestrate) back to the commands it runs", async () => {
    const playbook = join(work, 'env.yml');
    writeFileSync(
      playbook,
      [
        '- hosts: etcd',
        '  gather_facts: false',
        '  tasks:',
        '    - name: environment of a local command',
        '      shell: printf "%s|%s" "${NODE_EXTRA_CA_CERTS-unset}" "${ORCHESTRATE_NODE_EXTRA_CA_CERTS-unset}"',
        '      delegate_to: localhost',
        '      run_once: true',
        '',
      ].join('\n'),
    );
    const caFile = join(work, 'extra ca.pem');
    writeFileSync(caFile, readFileSync(lab.pki.caFile));
    const result = await cli(['run', playbook, ...base(), '--json'], 90_000, { NODE_EXTRA_CA_CERTS: caFile });
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    const event = jsonLines(result.stdout).find((e) => e.event === 'host_result' && e.task === 'environment of a local command');
    expect(event?.stdout_tail).to.equal(`${caFile}|unset`);
  });

  it('a failing task stops its hosts: exit code 3, the stderr tail in the JSON event', async () => {
    const result = await cli(['run', join(fixtures, 'failing-task.yml'), ...base(), '--json']);
    expect(result.code).to.equal(3);
    const events = jsonLines(result.stdout);
    const results = events.filter((e) => e.event === 'host_result');
    expect(results.map((e) => e.task)).to.deep.equal(['fails', 'fails', 'fails']);
    for (const e of results) expect(e).to.include({ status: 'failed', rc: 7, stderr_tail: 'going down', msg: 'non-zero return code' });
    const recap = events.at(-1) as { exit_code: number; hosts: Record<string, { failed: number }> };
    expect(recap.exit_code).to.equal(3);
    expect(Object.values(recap.hosts).map((h) => h.failed)).to.deep.equal([1, 1, 1]);
  });

  it('with ignore_errors the hosts go on and the run succeeds', async () => {
    const result = await cli(['run', join(fixtures, 'failing-task-ignored.yml'), ...base()]);
    expect(result.code, result.stdout).to.equal(0);
    expect(result.stdout).to.match(
      /\d\d:\d\d:\d\d\.\d{3} \[127\.0\.102\.1\] failed \(ignored\): fails \(\d+\.\d\ds\) - non-zero return code \(rc=7\)/,
    );
    expect(result.stdout).to.match(/\[127\.0\.102\.3\] changed: after the failure/);
    expect(result.stdout).to.match(/127\.0\.102\.2\s+: ok=1\s+changed=1\s+unreachable=0\s+failed=0\s+skipped=0\s+ignored=1/);
  });

  it('an unreachable host fails fast with its name and the cause; the others run (exit code 4)', async () => {
    const inventory = join(work, 'with-dead-host.yml');
    writeFileSync(inventory, `${readFileSync(lab.inventoryFile, 'utf8')}    dead:\n      hosts:\n        127.0.102.250: {}\n`);
    const result = await cli(['run', join(fixtures, 'ping.yml'), '-i', inventory, '--known-hosts', lab.knownHostsFile, '--connect-timeout', '5']);
    expect(result.code, result.stdout + result.stderr).to.equal(4);
    expect(result.stdout).to.match(/\[127\.0\.102\.250\] UNREACHABLE: ping .*127\.0\.102\.250.*(refused|ECONNREFUSED)/i);
    for (const host of lab.hosts) expect(result.stdout).to.contain(`[${host.address}] changed: ping`);
    expect(result.ms).to.be.below(15_000);
  });

  it('an unknown host key stops the host with the fingerprint; --accept-new-host-keys trusts and records it', async () => {
    const knownHosts = join(work, 'empty_known_hosts');
    writeFileSync(knownHosts, '');
    const refused = await cli(['run', join(fixtures, 'ping.yml'), '-i', lab.inventoryFile, '--known-hosts', knownHosts, '--json']);
    expect(refused.code).to.equal(4);
    const unreachable = jsonLines(refused.stdout).filter((e) => e.event === 'host_result');
    expect(unreachable).to.have.length(3);
    for (const e of unreachable) {
      expect(e.status).to.equal('unreachable');
      expect(e.msg).to.match(/SHA256:[A-Za-z0-9+/]{43}/);
      expect(e.msg).to.contain('--accept-new-host-keys');
    }
    const accepted = await cli(['run', join(fixtures, 'ping.yml'), '-i', lab.inventoryFile, '--known-hosts', knownHosts, '--accept-new-host-keys']);
    expect(accepted.code, accepted.stdout + accepted.stderr).to.equal(0);
    const recorded = readFileSync(knownHosts, 'utf8');
    for (const host of lab.hosts) expect(recorded).to.contain(host.address);
  });

  it('--dry-run prints the plan, masks secrets, and leaves every host untouched', async () => {
    const before = await Promise.all(
      lab.hosts.map(async (h) => ({ files: hostFiles(lab, h.upperDir), systemctl: await readSystemctlLog(lab, h.address) })),
    );
    const fetchDir = join(work, 'fetched');
    const args = ['run', join(fixtures, 'changes-everything.yml'), ...base(), '--dry-run', '-e', `fetch_dir=${fetchDir}`];
    const plain = await cli(args);
    expect(plain.code, plain.stdout + plain.stderr).to.equal(0);
    expect(plain.stdout).to.contain('DRY RUN');
    expect(plain.stdout).to.contain('(checked) systemctl is-active etcd');
    expect(plain.stdout).to.contain('$ systemctl stop etcd');
    expect(plain.stdout).to.contain('$ rm -rf -- /var/lib/etcd');
    expect(plain.stdout).to.contain('echo <deferred: touched.stdout>');
    expect(plain.stdout + plain.stderr).to.not.contain('do-not-print-me');

    const json = await cli([...args, '--json']);
    expect(json.code).to.equal(0);
    const events = jsonLines(json.stdout);
    const plan = events.find((e) => e.event === 'plan') as {
      hosts: { host: string; tasks: { task: string; status: string; steps: { text: string; ran: boolean; read_only: boolean }[] }[] }[];
    };
    expect(plan.hosts.map((h) => h.host)).to.deep.equal(lab.hosts.map((h) => h.address));
    const first = plan.hosts[0]!.tasks;
    expect(first.map((t) => t.task)).to.deep.equal([
      'stop etcd',
      'folder',
      'file content',
      'command',
      'uses a result known only after running',
      'remove the data dir',
      'start etcd again',
      'fetch to the deploy host',
    ]);
    expect(first[0]!.steps).to.deep.equal([
      { kind: 'exec', text: 'systemctl is-active etcd', read_only: true, ran: true, on: '127.0.102.1' },
      { kind: 'exec', text: 'systemctl stop etcd', read_only: false, ran: false, on: '127.0.102.1' },
    ]);
    // etcd still runs (nothing was stopped), so "start" is no change.
    expect(first[6]!.status).to.equal('ok');
    expect(JSON.stringify(events)).to.not.contain('do-not-print-me');

    const after = await Promise.all(
      lab.hosts.map(async (h) => ({ files: hostFiles(lab, h.upperDir), systemctl: await readSystemctlLog(lab, h.address) })),
    );
    expect(after).to.deep.equal(before);
    expect(existsSync(fetchDir)).to.equal(false);
    const health = await etcdctlInLab(lab, ['endpoint', 'health']);
    expect(health.code, health.stderr).to.equal(0);
  });

  it('a config error names the file and line and touches nothing (exit code 2)', async () => {
    const playbook = join(work, 'undefined-var.yml');
    writeFileSync(playbook, '- hosts: etcd\n  gather_facts: false\n  tasks:\n    - name: uses a typo\n      shell: echo {{ etcd_data_dri }}\n');
    const before = await readSystemctlLog(lab, lab.hosts[0]!.address);
    const result = await cli(['run', playbook, ...base(), '--json']);
    expect(result.code).to.equal(2);
    expect(result.stdout).to.equal('');
    expect(result.stderr).to.contain(`${playbook}:4`);
    expect(result.stderr).to.contain('etcd_data_dri');
    expect(await readSystemctlLog(lab, lab.hosts[0]!.address)).to.deep.equal(before);
  });
});
