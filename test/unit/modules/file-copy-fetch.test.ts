import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyModule } from '../../../src/modules/copy.js';
import { fetchModule } from '../../../src/modules/fetch.js';
import { fileModule } from '../../../src/modules/file.js';
import { formatMode, modeProblem, parseMode } from '../../../src/modules/file-mode.js';
import { context, drive, dryRun, exec, scripted } from './drive.js';

const missing = exec(1, '', "stat: cannot statx '/x': No such file or directory\n");
/** GNU stat output for a directory 0755 root:root, a file 0600 etcd:etcd. */
const dir755 = exec(0, '41ed 755 4096 0 0 root root 1700000000\n');
const file600 = exec(0, '8180 600 12 998 998 etcd etcd 1700000000\n');
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('file modes', () => {
  const good: [unknown, number][] = [
    ['0600', 0o600],
    ['600', 0o600],
    ['0o750', 0o750],
    ['1777', 0o1777],
    [384, 0o600],
    [493, 0o755],
  ];
  for (const [input, mode] of good) it(`accepts ${JSON.stringify(input)}`, () => expect(parseMode(input)).to.equal(mode));

  it('refuses the YAML 1.2 decimal trap (mode: 0644 read as 644) with the fix', () => {
    const problem = modeProblem(644);
    expect(problem).to.contain('ambiguous');
    expect(problem).to.contain("'0644'");
  });
  it('refuses symbolic and junk modes', () => {
    expect(modeProblem('u+rwx')).to.match(/not an octal/);
    expect(modeProblem(99999)).to.match(/not a file mode/);
  });
  it('formats with a leading zero', () => expect(formatMode(0o600)).to.equal('0600'));
});

describe('file module', () => {
  it('creates a missing directory and sets its mode', async () => {
    const { lines, outcome } = await drive(
      fileModule,
      { path: '/var/backups/etcd', state: 'directory', mode: '0700' },
      scripted([[/^stat/, missing]]),
    );
    expect(lines).to.deep.equal([
      "stat -c '%f %a %s %u %g %U %G %Y' -- /var/backups/etcd",
      'mkdir -p -- /var/backups/etcd',
      'chmod 0700 -- /var/backups/etcd',
    ]);
    expect(outcome.changed).to.equal(true);
  });

  it('an existing directory with the right mode is no change', async () => {
    const { lines, outcome } = await drive(fileModule, { path: '/d', state: 'directory', mode: '0755' }, scripted([[/^stat/, dir755]]));
    expect(lines).to.have.length(1);
    expect(outcome.changed).to.equal(false);
  });

  it('absent removes an existing path, and is no change when already gone', async () => {
    expect((await drive(fileModule, { path: '/tmp/x y', state: 'absent' }, scripted([[/^stat/, file600]]))).lines[1]).to.equal(
      "rm -rf -- '/tmp/x y'",
    );
    const gone = await drive(fileModule, { path: '/tmp/x', state: 'absent' }, scripted([[/^stat/, missing]]));
    expect(gone.lines).to.have.length(1);
    expect(gone.outcome.changed).to.equal(false);
  });

  it('touch, then owner and group', async () => {
    const { lines } = await drive(fileModule, { path: '/f', state: 'touch', owner: 'etcd', group: 'etcd' }, scripted([[/^stat/, missing]]));
    expect(lines.slice(1)).to.deep.equal(['touch -- /f', 'chown etcd:etcd -- /f']);
  });

  it("accepts Ansible's aliases name and dest for path, and exactly one of them", async () => {
    for (const alias of ['name', 'dest'] as const) {
      const { lines } = await drive(fileModule, { [alias]: '/var/lib/x', state: 'directory' }, scripted([[/^stat/, missing]]));
      expect(lines[1]).to.equal('mkdir -p -- /var/lib/x');
    }
    expect(fileModule.check?.({ path: '/a', name: '/b' })).to.deep.equal(['give exactly one of path, dest or name (they are aliases)']);
    expect(fileModule.check?.({ state: 'touch' })).to.have.length(1);
  });

  it('a directory where a file is fails', async () => {
    const { outcome } = await drive(fileModule, { path: '/f', state: 'directory' }, scripted([[/^stat/, file600]]));
    expect(outcome.failed).to.equal(true);
  });

  it('a path with shell syntax stays one word everywhere', async () => {
    const { lines } = await drive(fileModule, { path: '/tmp/$(reboot);x', state: 'directory', mode: '0700' }, scripted([[/^stat/, missing]]));
    for (const line of lines) expect(line).to.contain("'/tmp/$(reboot);x'");
  });

  it('check() refuses an ambiguous numeric mode', () => {
    expect(fileModule.check?.({ path: '/x', mode: 755 })).to.have.length(1);
  });

  it('dry-run: the stat runs, the changes are only planned', async () => {
    const { steps, outcome } = await drive(fileModule, { path: '/d', state: 'directory' }, dryRun(scripted([[/^stat/, missing]])));
    expect(steps.map((s) => s.kind === 'exec' && s.readOnly === true)).to.deep.equal([true, false]);
    expect(outcome.changed).to.equal(true);
  });
});

describe('copy module', () => {
  it('identical content and mode: one read-only probe, no upload', async () => {
    const probe = exec(0, `600 root root\n${sha('hello')}  /etc/x\n`);
    const { steps, outcome } = await drive(copyModule, { content: 'hello', dest: '/etc/x', mode: '0600' }, scripted([[/sha256sum/, probe]]));
    expect(steps).to.have.length(1);
    expect(steps[0]).to.include({ readOnly: true });
    expect(outcome.changed).to.equal(false);
  });

  it('different content: upload with the wanted mode', async () => {
    const probe = exec(0, `644 root root\n${'0'.repeat(64)}  /etc/x\n`);
    const { lines, outcome } = await drive(
      copyModule,
      { content: 'new', dest: '/etc/x', mode: '0640' },
      scripted([[/sha256sum/, probe]], { sha256: sha('new'), bytes: 3 }),
    );
    expect(lines[1]).to.equal('upload content:new -> /etc/x 640');
    expect(outcome.changed).to.equal(true);
  });

  it('a new file without a mode gets 0644; an existing one keeps its mode', async () => {
    const fresh = await drive(copyModule, { content: 'a', dest: '/n' }, scripted([[/sha256sum/, exec(1)]], { sha256: sha('a'), bytes: 1 }));
    expect(fresh.lines[1]).to.equal('upload content:a -> /n 644');
    const kept = await drive(
      copyModule,
      { content: 'a', dest: '/n' },
      scripted([[/sha256sum/, exec(0, `600 root root\n${'0'.repeat(64)}  /n\n`)]], { sha256: sha('a'), bytes: 1 }),
    );
    expect(kept.lines[1]).to.equal('upload content:a -> /n 600');
  });

  it('same content, different mode: only chmod', async () => {
    const probe = exec(0, `644 root root\n${sha('x')}  /f\n`);
    const { lines } = await drive(copyModule, { content: 'x', dest: '/f', mode: '0600' }, scripted([[/sha256sum/, probe]]));
    expect(lines.slice(1)).to.deep.equal(['chmod 0600 -- /f']);
  });

  it('src is read on the deploy host, relative to the playbook; dest/ takes its name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copy-src-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), 'CERT');
      const ctx = context({ vars: { playbook_dir: dir } });
      const { lines } = await drive(
        copyModule,
        { src: 'ca.pem', dest: '/etc/ssl/' },
        scripted([[/sha256sum/, exec(1)]], { sha256: sha('CERT'), bytes: 4 }),
        ctx,
      );
      expect(lines[1]).to.equal(`upload ${join(dir, 'ca.pem')} -> /etc/ssl/ca.pem 644`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a transfer whose sha256 differs fails', async () => {
    const { outcome } = await drive(copyModule, { content: 'a', dest: '/n' }, scripted([[/sha256sum/, exec(1)]], { sha256: 'bad', bytes: 1 }));
    expect(outcome.failed).to.equal(true);
  });
});

describe('fetch module', () => {
  const remoteSha = 'a'.repeat(64);
  const probe = scripted([[/sha256sum/, exec(0, `${remoteSha}  /var/lib/etcd/snap.db\n`)]], { sha256: remoteSha, bytes: 10 });

  it('not flat: dest/<host>/<src path>, mode 0600, parent folder created first', async () => {
    const { lines, steps } = await drive(fetchModule, { src: '/var/lib/etcd/snap.db', dest: '/backups' }, probe);
    expect(lines[0]).to.equal('sha256sum -- /var/lib/etcd/snap.db');
    expect(lines[1]).to.equal('call mkdir -p /backups/10.0.0.1/var/lib/etcd (mode 0700 for new folders) on the deploy host');
    expect(lines[2]).to.equal('download /var/lib/etcd/snap.db -> /backups/10.0.0.1/var/lib/etcd/snap.db 600');
    expect(steps[1]).to.include({ kind: 'call', readOnly: false });
  });

  it('flat: dest is the file; dest/ takes the remote name', async () => {
    expect((await drive(fetchModule, { src: '/a/snap.db', dest: '/b/x.db', flat: true }, probe)).lines[2]).to.equal(
      'download /a/snap.db -> /b/x.db 600',
    );
    expect((await drive(fetchModule, { src: '/a/snap.db', dest: '/b/', flat: 'yes' }, probe)).lines[2]).to.equal(
      'download /a/snap.db -> /b/snap.db 600',
    );
  });

  it('a local file with the same sha256 is not downloaded again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetch-'));
    try {
      writeFileSync(join(dir, 'snap.db'), 'same');
      const same = scripted([[/sha256sum/, exec(0, `${sha('same')}  /r/snap.db\n`)]]);
      const { lines, outcome } = await drive(fetchModule, { src: '/r/snap.db', dest: `${dir}/`, flat: true }, same);
      expect(lines).to.have.length(1);
      expect(outcome.changed).to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing remote file fails unless fail_on_missing is off', async () => {
    const gone = scripted([[/sha256sum/, exec(1, '', 'No such file')]]);
    expect((await drive(fetchModule, { src: '/r/x', dest: '/b' }, gone)).outcome.failed).to.equal(true);
    expect((await drive(fetchModule, { src: '/r/x', dest: '/b', fail_on_missing: false }, gone)).outcome.failed).to.equal(undefined);
  });

  it('a download whose sha256 differs from the remote one fails', async () => {
    const changing = scripted([[/sha256sum/, exec(0, `${remoteSha}  /r\n`)]], { sha256: 'b'.repeat(64), bytes: 1 });
    expect((await drive(fetchModule, { src: '/r', dest: '/b' }, changing)).outcome.failed).to.equal(true);
  });
});
