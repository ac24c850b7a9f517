import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statModule } from '../../../src/modules/stat.js';
import { waitForModule } from '../../../src/modules/wait-for.js';
import { drive, exec, scripted } from './drive.js';

describe('stat module', () => {
  it('parses GNU stat output into Ansible fields', async () => {
    const { lines, outcome } = await drive(
      statModule,
      { path: '/etc/kubernetes/ssl/ca.pem' },
      scripted([[/^stat/, exec(0, '81a4 644 1234 0 0 root root 1700000000\n')]]),
    );
    expect(lines).to.deep.equal(["stat -c '%f %a %s %u %g %U %G %Y' -- /etc/kubernetes/ssl/ca.pem"]);
    expect(outcome.result?.stat).to.deep.include({ exists: true, mode: '0644', size: 1234, isreg: true, isdir: false, pw_name: 'root' });
  });

  it('a missing path is exists: false, not a failure', async () => {
    const { outcome } = await drive(
      statModule,
      { path: '/nope' },
      scripted([[/^stat/, exec(1, '', "stat: cannot statx '/nope': No such file or directory")]]),
    );
    expect(outcome.result?.stat).to.deep.equal({ exists: false, path: '/nope' });
    expect(outcome.failed).to.equal(undefined);
  });

  it('get_checksum adds a read-only checksum step', async () => {
    const { steps, outcome } = await drive(
      statModule,
      { path: '/f', get_checksum: true, checksum_algorithm: 'sha256' },
      scripted([
        [/^stat/, exec(0, '81a4 644 1 0 0 root root 1\n')],
        [/sha256sum/, exec(0, 'abc  /f\n')],
      ]),
    );
    expect(steps.every((s) => s.kind === 'exec' && s.readOnly)).to.equal(true);
    expect((outcome.result?.stat as Record<string, unknown>).checksum).to.equal('abc');
  });
});

describe('wait_for module', () => {
  /** Run the planned command with the local bash, as a host would. */
  function runLocally(command: string): number {
    try {
      execFileSync('/bin/sh', ['-c', command], { stdio: 'ignore', timeout: 20_000 });
      return 0;
    } catch (error) {
      return (error as { status?: number }).status ?? 1;
    }
  }

  it('every value is a positional argument of a fixed script', async () => {
    const { lines, steps } = await drive(waitForModule, { host: '$(reboot)', port: 2379, timeout: 5 });
    expect(lines[0]).to.match(/^bash -c '.*' wait_for '\$\(reboot\)' 2379 '' started 5 0 0\.25$/s);
    expect(steps[0]).to.include({ timeoutMs: 15_000 });
  });

  it('a listening port is reached; a closed one times out with the target in the message', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    try {
      const open = await drive(waitForModule, { port, timeout: 5 });
      expect(runLocally(open.lines[0] as string)).to.equal(0);
    } finally {
      server.close();
    }
    const closed = await drive(waitForModule, { port, timeout: 1, sleep: 0.2 }, scripted([[/./, exec(1)]]));
    expect(closed.outcome.failed).to.equal(true);
    expect(closed.outcome.msg).to.contain(`127.0.0.1:${port}`);
    expect(runLocally(closed.lines[0] as string)).to.equal(1);
  });

  it('paths: present and absent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wait-'));
    try {
      const present = await drive(waitForModule, { path: dir, timeout: 2 });
      expect(runLocally(present.lines[0] as string)).to.equal(0);
      const absent = await drive(waitForModule, { path: join(dir, 'nothing'), state: 'absent', timeout: 2 });
      expect(runLocally(absent.lines[0] as string)).to.equal(0);
      const never = await drive(waitForModule, { path: join(dir, 'nothing'), state: 'present', timeout: 1, sleep: 0.2 });
      expect(runLocally(never.lines[0] as string)).to.equal(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
