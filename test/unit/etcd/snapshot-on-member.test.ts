// etcd.snapshot-on-member: the etcdctl fallback tries every member in turn and never leaves its temporary
// files behind. Steps out of the module (a small driver that can throw a failed step back in, as the
// engine does), the commands run by a real /bin/sh, and whole runs through the engine with fake transports.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Inventory, InventoryHost } from '../../../src/config/types.js';
import { etcdMembers } from '../../../src/config/etcd-vars.js';
import { runPlaybook } from '../../../src/engine/index.js';
import type { ExecStep, Step, StepResult } from '../../../src/modules/step.js';
import type { HostTaskResult, RunSummary } from '../../../src/engine/types.js';
import { UnreachableError } from '../../../src/errors.js';
import type { ModuleContext, ModuleOutcome } from '../../../src/modules/define.js';
import { createRegistry } from '../../../src/modules/create-registry.js';
import { etcdSnapshotOnMemberModule } from '../../../src/modules/etcd/etcd-snapshot-on-member.js';
import { RunState } from '../../../src/modules/run-state.js';
import { drive as driveModule, dryRun } from '../modules/drive.js';
import { removeOnMemberCommand, saveOnMemberCommand } from '../../../src/modules/etcd/snapshot-on-member-commands.js';
import type { ExecOptions, ExecResult, TransferResult, Transport } from '../../../src/transport/types.js';
import { files, RecordingReporter } from '../engine/fakes.js';

const execFileAsync = promisify(execFile);
const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const pki = { etcd_ca_file: '/pki/ca.pem', etcd_cert_file: '/pki/etcd.pem', etcd_key_file: '/pki/etcd-key.pem' };

function inventoryOf(vars: Record<string, Record<string, unknown>> = {}): Inventory {
  const entries = hosts.map((name): [string, InventoryHost] => [name, { name, vars: { ...pki, ...vars[name] }, groups: ['all', 'etcd'] }]);
  return {
    file: '/inv/hosts.yml',
    dir: '/inv',
    hosts: new Map(entries),
    groups: new Map([
      ['all', hosts],
      ['etcd', hosts],
    ]),
  };
}

function contextOf(inventory = inventoryOf()): ModuleContext {
  return { host: inventory.hosts.get(hosts[0]!)!, inventory, vars: {}, dryRun: false, become: false, state: new RunState() };
}

const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '', durationMs: 1 });
const failed = (exitCode: number, stderr: string): ExecResult => ({ exitCode, stdout: '', stderr, durationMs: 1 });
const copied: TransferResult = { bytes: 20512, sha256: 'a'.repeat(64) };

/** An answer per step: a result, an Error to throw into the plan at its yield (as the engine does), or undefined (dry-run). */
type Answer = StepResult;

interface Driven {
  steps: Step[];
  outcome: ModuleOutcome;
}

type Args = Parameters<typeof etcdSnapshotOnMemberModule.plan>[1];

/** The shared driver; `undefined` answers every step as a dry-run would (only read-only steps would run). */
async function drive(args: Partial<Args>, answer: (step: Step) => Answer, ctx = contextOf(), dry = false): Promise<Driven> {
  const driven = await driveModule(etcdSnapshotOnMemberModule, args, dry ? dryRun(answer) : answer, ctx);
  return { steps: driven.steps, outcome: driven.outcome };
}

/** The call step runs for real-looking results without touching /srv; saves and downloads per host. */
function answers(byHost: Record<string, { save?: Answer; download?: Answer }>): (step: Step) => Answer {
  return (step) => {
    if (step.kind === 'call') return undefined;
    const rules = (step.kind === 'exec' || step.kind === 'download' ? byHost[step.host ?? ''] : undefined) ?? {};
    if (step.kind === 'download') return rules.download ?? copied;
    if (step.kind === 'exec' && step.command.includes('snapshot save')) return rules.save ?? ok();
    return ok();
  };
}

const isExec = (step: Step): step is ExecStep => step.kind === 'exec';
const saves = (steps: Step[]) => steps.filter(isExec).filter((s) => s.command.includes('snapshot save'));
const cleanups = (steps: Step[]) => steps.filter(isExec).filter((s) => s.cleanup === true);
/** The member's temporary path, as quoted in its save command (the command's last word). */
const remotePathOf = (save: ExecStep) => save.command.slice(save.command.lastIndexOf(' snapshot save ') + ' snapshot save '.length);

const members = hosts.map((h) => `etcd-${h}`);
const base = { members, dest_dir: '/srv/backups', etcdctl: '/opt/kube/bin/etcdctl', timeout_seconds: 60 };

describe('etcd.snapshot-on-member: tries each member in turn', () => {
  it("names the member's own copies of the TLS files where they live elsewhere there (kubeasz's ca_dir)", async () => {
    const onMember = {
      etcd_member_ca_file: '/etc/kubernetes/ssl/ca.pem',
      etcd_member_cert_file: '/etc/kubernetes/ssl/etcd.pem',
      etcd_member_key_file: '/etc/kubernetes/ssl/etcd-key.pem',
    };
    const ctx = contextOf(inventoryOf(Object.fromEntries(hosts.map((h) => [h, onMember]))));
    const { steps } = await drive(base, answers({}), ctx);
    const [save] = saves(steps);
    expect(save!.command).to.include(
      `'--cacert=/etc/kubernetes/ssl/ca.pem' '--cert=/etc/kubernetes/ssl/etcd.pem' '--key=/etc/kubernetes/ssl/etcd-key.pem'`,
    );
  });

  it('the first member works: etcdctl under timeout with umask 077, a sha256-checked download, the copy removed; every step on that member', async () => {
    const { steps, outcome } = await drive(base, answers({}));
    expect(steps.map((s) => s.kind)).to.deep.equal(['call', 'exec', 'download', 'exec']);
    expect((steps[0] as { description: string }).description).to.equal(
      'create /srv/backups (0700) on the deploy host; snapshot with etcdctl on etcd-10.0.0.1 (if that fails: etcd-10.0.0.2, then etcd-10.0.0.3, the same way)',
    );
    const [save] = saves(steps);
    const remote = remotePathOf(save!);
    expect(remote).to.match(/^\/var\/lib\/orchestrate-snapshot-[0-9a-f]{12}\.db$/);
    expect(save!.command).to.equal(
      `find /var/lib -maxdepth 1 -type f -name 'orchestrate-snapshot-*' -mmin +1440 -exec rm -f -- '{}' + 2>/dev/null; umask 077 && ` +
        `env 'ETCDCTL_API=3' timeout --foreground -k 5 60 /opt/kube/bin/etcdctl '--endpoints=https://10.0.0.1:2379' '--dial-timeout=5s' '--command-timeout=60s' ` +
        `'--cacert=/pki/ca.pem' '--cert=/pki/etcd.pem' '--key=/pki/etcd-key.pem' snapshot save ${remote}`,
    );
    expect(save).to.include({ host: '10.0.0.1', timeoutMs: 75_000 });
    expect(steps[2]).to.deep.include({ kind: 'download', host: '10.0.0.1', src: remote, mode: 0o600 });
    expect((steps[2] as { dest: string }).dest).to.match(/^\/srv\/backups\/snapshot_\d{8}T\d{6}Z\.db\.partial-[0-9a-f]{12}$/);
    expect(steps[3]).to.deep.include({
      kind: 'exec',
      host: '10.0.0.1',
      command: `rm -f -- ${remote} ${remote}.part`,
      cleanup: true,
      timeoutMs: 15_000,
    });
    expect(outcome.failed).to.equal(undefined);
    expect(outcome.msg).to.equal('20512 bytes from etcd-10.0.0.1 via etcdctl');
    expect(outcome.result).to.include({
      method: 'etcdctl',
      bytes: 20512,
      sha256: 'a'.repeat(64),
      member: 'etcd-10.0.0.1',
      host: '10.0.0.1',
      partial_path: (steps[2] as { dest: string }).dest,
    });
  });

  const fallbacks: [string, Record<string, { save?: Answer; download?: Answer }>, RegExp][] = [
    [
      'etcdctl exits non-zero',
      { '10.0.0.1': { save: failed(1, 'Error: context deadline exceeded\n') } },
      /^etcd-10\.0\.0\.1: etcdctl snapshot save on 10\.0\.0\.1 failed: non-zero return code: Error: context deadline exceeded$/,
    ],
    [
      'etcdctl hangs (timeout exits 124)',
      { '10.0.0.1': { save: failed(124, '') } },
      /^etcd-10\.0\.0\.1: etcdctl snapshot save on 10\.0\.0\.1 failed: etcdctl gave no snapshot within 60s \(member stopped\?\)$/,
    ],
    [
      'the download fails',
      { '10.0.0.1': { download: new Error('10.0.0.1: cannot read /var/lib/x: No such file') } },
      /^etcd-10\.0\.0\.1: copying \/var\/lib\/orchestrate-snapshot-[0-9a-f]{12}\.db from 10\.0\.0\.1 failed: 10\.0\.0\.1: cannot read \/var\/lib\/x: No such file$/,
    ],
    [
      'the member cannot be reached',
      { '10.0.0.1': { save: new UnreachableError('10.0.0.1', 'cannot connect: ECONNREFUSED', 'is sshd running there?') } },
      /^etcd-10\.0\.0\.1: etcdctl snapshot save on 10\.0\.0\.1 failed: unreachable over SSH: cannot connect: ECONNREFUSED \(fix: is sshd running there\?\)$/,
    ],
    [
      'the SSH connection is lost during the download',
      { '10.0.0.1': { download: new UnreachableError('10.0.0.1', 'lost the SSH connection to 10.0.0.1:22') } },
      /^etcd-10\.0\.0\.1: copying \/var\/lib\/orchestrate-snapshot-[0-9a-f]{12}\.db from 10\.0\.0\.1 failed: unreachable over SSH: lost the SSH connection to 10\.0\.0\.1:22$/,
    ],
  ];
  for (const [why, script, failure] of fallbacks) {
    it(`${why} on the first member: its copy is removed, the second member gives the snapshot`, async () => {
      const { steps, outcome } = await drive(base, answers(script));
      const tried = saves(steps);
      expect(tried.map((s) => s.host)).to.deep.equal(['10.0.0.1', '10.0.0.2']);
      // One cleanup per member tried, on that member, for exactly the path its save used.
      expect(cleanups(steps).map((s) => [s.host, s.command])).to.deep.equal(tried.map((s) => [s.host, removeOnMemberCommand(remotePathOf(s))]));
      expect(new Set(tried.map(remotePathOf)).size).to.equal(2);
      expect(outcome.failed).to.equal(undefined);
      expect(outcome.result).to.include({ member: 'etcd-10.0.0.2', host: '10.0.0.2' });
      const after = /^20512 bytes from etcd-10\.0\.0\.2 via etcdctl \(after (.*)\)$/.exec(outcome.msg ?? '');
      expect(after, outcome.msg).to.not.equal(null);
      expect(after![1]).to.match(failure);
    });
  }

  it('every member fails: one error naming each member and its cause, every copy removed, nothing taken', async () => {
    const { steps, outcome } = await drive(
      base,
      answers({
        '10.0.0.1': { save: failed(2, 'Error: permission denied\n') },
        '10.0.0.2': { download: new Error('sha256 mismatch') },
        '10.0.0.3': { save: failed(124, 'context deadline exceeded\n') },
      }),
    );
    expect(saves(steps).map((s) => s.host)).to.deep.equal(hosts);
    expect(cleanups(steps).map((s) => s.host)).to.deep.equal(hosts);
    expect(outcome).to.include({ failed: true, changed: false });
    expect(outcome.result).to.equal(undefined);
    const parts = outcome.msg!.replace(/^no member gave a snapshot with etcdctl: /, '').split('; ');
    expect(parts).to.have.length(3);
    expect(parts[0]).to.equal('etcd-10.0.0.1: etcdctl snapshot save on 10.0.0.1 failed: non-zero return code: Error: permission denied');
    expect(parts[1]).to.match(
      /^etcd-10\.0\.0\.2: copying \/var\/lib\/orchestrate-snapshot-[0-9a-f]{12}\.db from 10\.0\.0\.2 failed: sha256 mismatch$/,
    );
    expect(parts[2]).to.equal(
      'etcd-10.0.0.3: etcdctl snapshot save on 10.0.0.3 failed: etcdctl gave no snapshot within 60s (member stopped?): context deadline exceeded',
    );
  });

  it('every member unreachable over SSH: one error naming each member and "unreachable", each cleanup still tried', async () => {
    const down = (host: string) => new UnreachableError(host, `TCP connection to ${host}:22 timed out`);
    const { steps, outcome } = await drive(base, (step) => ((isExec(step) || step.kind === 'download') && step.host ? down(step.host) : undefined));
    expect(saves(steps).map((s) => s.host)).to.deep.equal(hosts);
    expect(cleanups(steps).map((s) => s.host)).to.deep.equal(hosts);
    expect(steps.filter((s) => s.kind === 'download')).to.deep.equal([]);
    expect(outcome).to.include({ failed: true, changed: false });
    expect(outcome.msg).to.equal(
      `no member gave a snapshot with etcdctl: ${hosts.map((h) => `etcd-${h}: etcdctl snapshot save on ${h} failed: unreachable over SSH: TCP connection to ${h}:22 timed out`).join('; ')}`,
    );
  });

  it('a cleanup that fails (host gone) is best-effort: the next member is still tried', async () => {
    const script = answers({ '10.0.0.1': { save: failed(1, 'boom') } });
    const { steps, outcome } = await drive(base, (step) =>
      isExec(step) && step.cleanup && step.host === '10.0.0.1' ? new UnreachableError('10.0.0.1', 'lost') : script(step),
    );
    expect(saves(steps).map((s) => s.host)).to.deep.equal(['10.0.0.1', '10.0.0.2']);
    expect(outcome.result).to.include({ host: '10.0.0.2' });
  });

  it("--dry-run: the first member's steps (save, download, cleanup) and the fallback order; nothing else", async () => {
    const { steps, outcome } = await drive(base, () => undefined, contextOf(), true);
    expect(steps.map((s) => (s.kind === 'exec' ? (s.cleanup ? 'cleanup' : 'save') : s.kind))).to.deep.equal(['call', 'save', 'download', 'cleanup']);
    expect(steps.slice(1).every((s) => (s.kind === 'exec' || s.kind === 'download') && s.host === '10.0.0.1')).to.equal(true);
    expect(outcome).to.deep.equal({ changed: true });
  });

  it('one member named means no fallback; unknown members are refused', async () => {
    const single = await drive(
      { members: ['etcd-10.0.0.2'], dest_dir: '/srv/backups' },
      answers({ '10.0.0.2': { save: failed(124, 'context deadline exceeded\n') } }),
    );
    expect(saves(single.steps).map((s) => s.host)).to.deep.equal(['10.0.0.2']);
    expect(single.outcome.msg).to.equal(
      'no member gave a snapshot with etcdctl: etcd-10.0.0.2: etcdctl snapshot save on 10.0.0.2 failed: etcdctl gave no snapshot within 120s (member stopped?): context deadline exceeded',
    );
    const unknown = await drive({ members: ['etcd-10.0.0.1', 'nope'] }, answers({}));
    expect(unknown.outcome).to.include({ failed: true, msg: 'not etcd members of the inventory: nope' });
    expect(unknown.steps).to.deep.equal([]);
  });
});

describe('etcd.snapshot-on-member: hostile names and paths stay single words', () => {
  const hostile = "/srv/it's $(touch PWNED) `id`;x";
  const inventory = inventoryOf({
    '10.0.0.1': {
      etcd_name: "etcd-1'; reboot; '",
      etcd_data_dir: `${hostile}/etcd`,
      etcd_client_url: 'https://10.0.0.1:2379 $(id)',
      etcd_cert_file: '/pki/a b.pem',
    },
  });

  it('every inventory value reaches the shell quoted; the name only appears in messages', async () => {
    const { steps } = await drive(
      { members: ["etcd-1'; reboot; '"], etcdctl: '/opt/my bin/etcdctl;id', dest_dir: '/srv/backups' },
      answers({}),
      contextOf(inventory),
    );
    const [save] = saves(steps);
    expect(save!.command).to.contain(`find '/srv/it'\\''s $(touch PWNED) \`id\`;x' -maxdepth 1`);
    expect(save!.command).to.contain(`timeout --foreground -k 5 120 '/opt/my bin/etcdctl;id' '--endpoints=https://10.0.0.1:2379 $(id)'`);
    expect(save!.command).to.contain(`'--cert=/pki/a b.pem'`);
    expect(save!.command).to.not.contain('reboot');
    expect(remotePathOf(save!)).to.match(/^'\/srv\/it'\\''s \$\(touch PWNED\) `id`;x\/orchestrate-snapshot-[0-9a-f]{12}\.db'$/);
  });

  it('arguments: a relative remote_dir (it could start with "-") and an unknown argument are refused', () => {
    const registry = createRegistry([etcdSnapshotOnMemberModule]);
    const check = (args: Record<string, unknown>) => registry.validate('etcd.snapshot-on-member', args);
    expect(check({ members, remote_dir: '/var/tmp' })).to.deep.equal([]);
    expect(check({ members, remote_dir: '-rf' }).join()).to.match(/remote_dir must match pattern "\^\/"/);
    expect(check({ member: members[0], members })).to.deep.equal(['unknown argument "member"']);
    // Without members, etcd.status's candidates are used.
    expect(check({ dest_dir: '/x' })).to.deep.equal([]);
  });

  describe('run by /bin/sh', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'on-member-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("the save command: etcdctl gets each argument intact, stays in the command's process group, writes 0600 under umask 022; only stale copies are swept", async () => {
      const remoteDir = join(dir, "it's $(touch PWNED) `id`;x");
      await mkdir(remoteDir);
      // A stand-in etcdctl: records its argv one per line, writes the snapshot file as etcdctl would (no mode of its own).
      const fake = join(dir, 'my etcdctl;id');
      await writeFile(
        fake,
        `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\nps -o pgid= -p $$ > "${dir}/pgid"\nfor last; do :; done\nprintf snapshot > "$last"\n`,
      );
      await chmod(fake, 0o755);
      const stale = join(remoteDir, 'orchestrate-snapshot-0123456789ab.db.part');
      const fresh = join(remoteDir, 'orchestrate-snapshot-ba9876543210.db');
      const other = join(remoteDir, 'keep-me.db');
      for (const file of [stale, fresh, other]) await writeFile(file, 'x');
      const twoDaysAgo = new Date(Date.now() - 48 * 3_600_000);
      await utimes(stale, twoDaysAgo, twoDaysAgo);
      await utimes(other, twoDaysAgo, twoDaysAgo);

      const [member] = etcdMembers(inventoryOf({ '10.0.0.1': { etcd_client_url: 'https://10.0.0.1:2379 $(id)', etcd_cert_file: '/pki/a b.pem' } }));
      const target = join(remoteDir, 'orchestrate-snapshot-00000000000a.db');
      const command = saveOnMemberCommand(member!, target, { etcdctl: fake, timeoutSeconds: 10 });
      // The transport kills a command's process group: etcdctl must be in it (plain `timeout` makes its own).
      await execFileAsync('/bin/sh', ['-c', `umask 022; ps -o pgid= -p $$ > outer-pgid; ${command}`], { cwd: dir, timeout: 20_000 });
      expect((await readFile(join(dir, 'pgid'), 'utf8')).trim()).to.equal((await readFile(join(dir, 'outer-pgid'), 'utf8')).trim());

      const argv = (await readFile(join(dir, 'argv'), 'utf8')).split('\n').slice(0, -1);
      expect(argv).to.deep.equal([
        '--endpoints=https://10.0.0.1:2379 $(id)',
        '--dial-timeout=5s',
        '--command-timeout=10s',
        '--cacert=/pki/ca.pem',
        '--cert=/pki/a b.pem',
        '--key=/pki/etcd-key.pem',
        'snapshot',
        'save',
        target,
      ]);
      expect((await stat(target)).mode & 0o777).to.equal(0o600);
      const left = (await readdir(remoteDir)).sort();
      expect(left).to.deep.equal(['keep-me.db', 'orchestrate-snapshot-00000000000a.db', 'orchestrate-snapshot-ba9876543210.db']);
      expect(await readdir(dir)).to.not.include('PWNED');

      await execFileAsync('/bin/sh', ['-c', removeOnMemberCommand(target)], { cwd: dir, timeout: 10_000 });
      await writeFile(`${target}.part`, 'partial');
      await execFileAsync('/bin/sh', ['-c', removeOnMemberCommand(target)], { cwd: dir, timeout: 10_000 });
      expect((await readdir(remoteDir)).sort()).to.deep.equal(['keep-me.db', 'orchestrate-snapshot-ba9876543210.db']);
      expect(await readdir(dir)).to.not.include('PWNED');
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Through the engine: steps that name a host run on that host's connection, a failed step reaches the
// plan, and cleanup steps still run after an interrupt.

interface HostScript {
  /** The save command's answer; 'hang' waits for the abort signal and fails as the ssh transport does. */
  save?: ExecResult | 'hang';
  /** Called once a hanging save waits for its abort signal (the moment to interrupt). */
  onHang?: () => void;
  /** Throw this from the download; or run `during` while it runs (then succeed). */
  downloadError?: Error;
  during?: () => void;
}

interface Logged {
  host: string;
  kind: 'exec' | 'download';
  text: string;
  hadSignal?: boolean;
}

class ScriptedTransport implements Transport {
  constructor(
    readonly host: string,
    private readonly script: HostScript,
    private readonly log: Logged[],
  ) {}
  async connect(): Promise<void> {}
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.log.push({ host: this.host, kind: 'exec', text: command, hadSignal: options.signal !== undefined });
    if (!command.includes('snapshot save')) return ok();
    if (this.script.save === 'hang') {
      return new Promise((_, reject) => {
        const signal = options.signal;
        if (!signal) {
          reject(new Error('no abort signal: the save would hang forever'));
          return;
        }
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        this.script.onHang?.();
      });
    }
    return this.script.save ?? ok();
  }
  async upload(): Promise<TransferResult> {
    throw new Error('no uploads here');
  }
  async download(remotePath: string, localPath: string): Promise<TransferResult> {
    this.log.push({ host: this.host, kind: 'download', text: remotePath });
    if (this.script.downloadError) throw this.script.downloadError;
    this.script.during?.();
    await mkdir(dirname(localPath), { recursive: true });
    await writeFile(localPath, 'snapshot bytes', { mode: 0o600 });
    return { bytes: 14, sha256: 'b'.repeat(64) };
  }
  async close(): Promise<void> {}
}

const inventoryYaml = `
all:
  children:
    etcd:
      hosts:
        10.0.0.1:
        10.0.0.2:
        10.0.0.3:
`;

interface OnMemberRun {
  summary: RunSummary;
  log: Logged[];
  backupDir: string;
  msg: string | undefined;
  result: HostTaskResult | undefined;
  /** The hosts of each connection the engine opened, in order, and whether each was local (not SSH). */
  opened: { host: string; local: boolean }[];
}

/** The task as playbooks/backup.yml has it: delegated to localhost, so each member is connected when its turn comes. */
async function runOnMember(
  scripts: Record<string, HostScript>,
  options: { unreachable?: string[]; signal?: AbortSignal; dryRun?: boolean; ignoreErrors?: boolean } = {},
): Promise<OnMemberRun> {
  const backupDir = await mkdtemp(join(tmpdir(), 'on-member-backups-'));
  const playbook = `
- hosts: etcd
  gather_facts: false
  tasks:
    - name: take it with etcdctl
      etcd.snapshot-on-member:
        members: [etcd-10.0.0.1, etcd-10.0.0.2, etcd-10.0.0.3]
        dest_dir: ${JSON.stringify(backupDir)}
        timeout_seconds: 5
      delegate_to: localhost
      run_once: true
      register: copied
      ignore_errors: ${options.ignoreErrors === true}
`;
  const paths = files(inventoryYaml, playbook);
  const log: Logged[] = [];
  const opened: OnMemberRun['opened'] = [];
  const reporter = new RecordingReporter();
  try {
    const summary = await runPlaybook({
      inventory: paths.inventory,
      playbook: paths.playbook,
      reporter,
      dryRun: options.dryRun ?? false,
      ...(options.signal ? { signal: options.signal } : {}),
      openTransports: async (specs) => {
        const result = new Map<string, Transport | UnreachableError>();
        for (const spec of specs) {
          opened.push({ host: spec.host, local: spec.local });
          result.set(
            spec.host,
            options.unreachable?.includes(spec.host)
              ? new UnreachableError(spec.host, 'cannot connect: ECONNREFUSED')
              : new ScriptedTransport(spec.host, scripts[spec.host] ?? {}, log),
          );
        }
        return result;
      },
    });
    const result = reporter.of('host_result').find((e) => e.task === 'take it with etcdctl')?.result;
    return { summary, log, backupDir, msg: result?.display.msg, result, opened };
  } finally {
    await rm(paths.dir, { recursive: true, force: true });
  }
}

const savesIn = (log: Logged[]) => log.filter((e) => e.kind === 'exec' && e.text.includes('snapshot save'));
const removesIn = (log: Logged[]) => log.filter((e) => e.kind === 'exec' && e.text.startsWith('rm -f -- '));

describe('etcd.snapshot-on-member through the engine (fake transports)', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("the first member's etcdctl fails: the save and the cleanup run on it, then the whole attempt runs on the second member", async () => {
    const { summary, log, backupDir, msg } = await runOnMember({ '10.0.0.1': { save: failed(1, 'Error: etcdserver: request timed out') } });
    dirs.push(backupDir);
    expect(summary.exitCode).to.equal(0);
    expect(log.map((e) => `${e.host} ${e.kind} ${e.text.startsWith('rm') ? 'rm' : e.kind === 'exec' ? 'save' : ''}`.trim())).to.deep.equal([
      '10.0.0.1 exec save',
      '10.0.0.1 exec rm',
      '10.0.0.2 exec save',
      '10.0.0.2 download',
      '10.0.0.2 exec rm',
    ]);
    const copied = summary.hostFacts['10.0.0.1']!.copied as Record<string, unknown>;
    expect(copied).to.include({ member: 'etcd-10.0.0.2', host: '10.0.0.2', method: 'etcdctl', failed: false });
    expect(await readFile(copied.partial_path as string, 'utf8')).to.equal('snapshot bytes');
    expect(msg).to.match(
      /^14 bytes from etcd-10\.0\.0\.2 via etcdctl \(after etcd-10\.0\.0\.1: etcdctl snapshot save on 10\.0\.0\.1 failed: non-zero return code: Error: etcdserver: request timed out\)$/,
    );
  });

  it('the download from the first member throws: the plan hears of it, removes the copy there and uses the second member', async () => {
    const { summary, log, backupDir } = await runOnMember({
      '10.0.0.1': { downloadError: new Error('10.0.0.1: cannot read /var/lib/x: connection reset') },
    });
    dirs.push(backupDir);
    expect(summary.exitCode).to.equal(0);
    expect(removesIn(log).map((e) => e.host)).to.deep.equal(['10.0.0.1', '10.0.0.2']);
    expect((summary.hostFacts['10.0.0.1']!.copied as Record<string, unknown>).host).to.equal('10.0.0.2');
  });

  it('an unreachable member is skipped for the next; all failing ends the task failed with each member and cause', async () => {
    const { summary, log, backupDir, msg } = await runOnMember(
      { '10.0.0.1': { save: failed(124, '') }, '10.0.0.3': { downloadError: new Error('sha256 mismatch') } },
      { unreachable: ['10.0.0.2'] },
    );
    dirs.push(backupDir);
    expect(summary.exitCode).to.equal(3);
    expect(savesIn(log).map((e) => e.host)).to.deep.equal(['10.0.0.1', '10.0.0.3']);
    expect(removesIn(log).map((e) => e.host)).to.deep.equal(['10.0.0.1', '10.0.0.3']);
    expect(msg).to.match(
      /^no member gave a snapshot with etcdctl: etcd-10\.0\.0\.1: .*within 5s \(member stopped\?\); etcd-10\.0\.0\.2: etcdctl snapshot save on 10\.0\.0\.2 failed: unreachable over SSH: cannot connect: ECONNREFUSED; etcd-10\.0\.0\.3: copying .* from 10\.0\.0\.3 failed: sha256 mismatch$/,
    );
    expect(await readdir(backupDir)).to.deep.equal([]);
  });

  it("the first member's SSH is unreachable: the task is not unreachable, the second member gives the snapshot, the third is never contacted", async () => {
    const { summary, log, backupDir, result, opened } = await runOnMember({}, { unreachable: ['10.0.0.1'] });
    dirs.push(backupDir);
    expect(summary.exitCode).to.equal(0);
    expect(result).to.include({ host: '10.0.0.1', delegatedTo: 'localhost', status: 'changed' });
    expect(result!.display.msg).to.equal(
      '14 bytes from etcd-10.0.0.2 via etcdctl (after etcd-10.0.0.1: etcdctl snapshot save on 10.0.0.1 failed: unreachable over SSH: cannot connect: ECONNREFUSED)',
    );
    expect(summary.stats['10.0.0.1']).to.include({ changed: 1, unreachable: 0, failed: 0, ignored: 0 });
    // Nothing but the deploy host up front; each member when its first step runs, and only those tried.
    expect(opened).to.deep.equal([
      { host: 'localhost', local: true },
      { host: '10.0.0.1', local: false },
      { host: '10.0.0.2', local: false },
    ]);
    expect(log.map((e) => `${e.host} ${e.kind}`)).to.deep.equal(['10.0.0.2 exec', '10.0.0.2 download', '10.0.0.2 exec']);
    const copied = summary.hostFacts['10.0.0.1']!.copied as Record<string, unknown>;
    expect(copied).to.include({ member: 'etcd-10.0.0.2', host: '10.0.0.2', failed: false });
    // The steps report the member they ran on.
    expect(result!.steps.map((s) => [s.kind, s.on])).to.deep.equal([
      ['call', 'localhost'],
      ['exec', '10.0.0.2'],
      ['download', '10.0.0.2'],
      ['exec', '10.0.0.2'],
    ]);
  });

  it('every member unreachable: the task fails (ignored under ignore_errors, not counted unreachable), one error naming each member and "unreachable"', async () => {
    const down = { unreachable: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] };
    const { summary, log, backupDir, result, opened } = await runOnMember({}, down);
    dirs.push(backupDir);
    expect(log).to.deep.equal([]);
    expect(opened.filter((o) => !o.local).map((o) => o.host)).to.deep.equal(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(result).to.include({ status: 'failed', ignored: false });
    expect(summary.exitCode).to.equal(3);
    expect(summary.stats['10.0.0.1']).to.include({ failed: 1, unreachable: 0 });
    const msg = result!.status === 'failed' ? result!.msg : '';
    expect(msg).to.equal(
      'no member gave a snapshot with etcdctl: etcd-10.0.0.1: etcdctl snapshot save on 10.0.0.1 failed: unreachable over SSH: cannot connect: ECONNREFUSED; ' +
        'etcd-10.0.0.2: etcdctl snapshot save on 10.0.0.2 failed: unreachable over SSH: cannot connect: ECONNREFUSED; etcd-10.0.0.3: etcdctl snapshot save on 10.0.0.3 failed: unreachable over SSH: cannot connect: ECONNREFUSED',
    );
    expect(await readdir(backupDir)).to.deep.equal([]);

    const ignored = await runOnMember({}, { ...down, ignoreErrors: true });
    dirs.push(ignored.backupDir);
    expect(ignored.result).to.include({ status: 'failed', ignored: true });
    expect(ignored.summary.exitCode).to.equal(0);
    expect(ignored.summary.stats['10.0.0.1']).to.include({ failed: 0, ignored: 1, unreachable: 0 });
  });

  it('interrupted during etcdctl: the save is aborted, the copy still removed (without the abort signal), no other member tried, exit 130', async () => {
    const controller = new AbortController();
    // Interrupted once etcdctl runs, however slow the machine is to get there.
    const { summary, log, backupDir } = await runOnMember(
      { '10.0.0.1': { save: 'hang', onHang: () => controller.abort() } },
      { signal: controller.signal },
    );
    dirs.push(backupDir);
    expect(summary.interrupted).to.equal(true);
    expect(summary.exitCode).to.equal(130);
    expect(savesIn(log).map((e) => e.host)).to.deep.equal(['10.0.0.1']);
    expect(removesIn(log).map((e) => [e.host, e.hadSignal])).to.deep.equal([['10.0.0.1', false]]);
  });

  it("interrupted while the download ran to its end: the member's copy and the local copy are both removed, exit 130", async () => {
    const controller = new AbortController();
    const { summary, log, backupDir } = await runOnMember({ '10.0.0.1': { during: () => controller.abort() } }, { signal: controller.signal });
    dirs.push(backupDir);
    expect(summary.exitCode).to.equal(130);
    expect(removesIn(log).map((e) => e.host)).to.deep.equal(['10.0.0.1']);
    expect(savesIn(log).map((e) => e.host)).to.deep.equal(['10.0.0.1']);
    expect(await readdir(backupDir)).to.deep.equal([]);
  });

  it("--dry-run prints the first member's steps on that member, runs none of them and opens no SSH connection", async () => {
    const { summary, log, backupDir, opened } = await runOnMember({}, { dryRun: true });
    dirs.push(backupDir);
    expect(log).to.deep.equal([]);
    expect(opened).to.deep.equal([{ host: 'localhost', local: true }]);
    const steps = summary.plan!.flatMap((h) => h.tasks).flatMap((t) => t.steps);
    expect(steps.map((s) => [s.kind, s.on, s.ran])).to.deep.equal([
      ['call', 'localhost', false],
      ['exec', '10.0.0.1', false],
      ['download', '10.0.0.1', false],
      ['exec', '10.0.0.1', false],
    ]);
    expect(steps[2]!.text).to.match(
      /^download 10\.0\.0\.1:\/var\/lib\/orchestrate-snapshot-[0-9a-f]{12}\.db -> .*\.partial-[0-9a-f]{12} on the deploy host \(mode 0600\)$/,
    );
  });
});
