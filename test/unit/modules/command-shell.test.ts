import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { commandModule } from '../../../src/modules/command.js';
import { shellModule } from '../../../src/modules/shell.js';
import { splitShellWords } from '../../../src/modules/split-words.js';
import { drive, dryRun, exec, scripted } from './drive.js';

/** What /bin/sh makes of a command line: its words, one per line (NUL-separated). */
function wordsAsShellSeesThem(line: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('command module', () => {
  const cases: { name: string; args: Parameters<typeof commandModule.plan>[1]; lines: string[] }[] = [
    { name: 'simple words', args: { cmd: 'etcdctl endpoint health' }, lines: ['etcdctl endpoint health'] },
    { name: 'a quoted word with shell syntax stays one word', args: { cmd: "echo 'a; rm -rf /'" }, lines: ["echo 'a; rm -rf /'"] },
    { name: 'double quotes and $() are not expanded', args: { cmd: 'echo "$(id)" `id`' }, lines: ["echo '$(id)' '`id`'"] },
    { name: 'argv form', args: { argv: ['printf', '%s\n', "it's"] }, lines: ["printf '%s\n' 'it'\\''s'"] },
    { name: 'chdir', args: { cmd: 'ls', chdir: '/tmp/a b' }, lines: ["cd -- '/tmp/a b' || exit 1; ls"] },
    { name: 'a newline inside an argv word', args: { argv: ['echo', 'a\nb'] }, lines: ["echo 'a\nb'"] },
  ];
  for (const c of cases) {
    it(`plans: ${c.name}`, async () => {
      const { lines, outcome } = await drive(commandModule, c.args, scripted([[/./, exec(0, 'out\n')]]));
      expect(lines).to.deep.equal(c.lines);
      expect(outcome.changed).to.equal(true);
      expect(outcome.result?.stdout).to.equal('out');
    });
  }

  it('hostile argv words reach the shell as exactly those words', async () => {
    const hostile = ['; touch /tmp/pwned', '$(reboot)', '`id`', "it's", '"q"', 'a\nb', '*', '&&', ''];
    const { lines } = await drive(commandModule, { argv: ['x', ...hostile] });
    expect(wordsAsShellSeesThem((lines[0] as string).slice(2))).to.deep.equal(hostile);
  });

  it('a value the template engine quoted stays one word after splitting', () => {
    const quoted = "'; rm -rf / #'\\'''";
    expect(splitShellWords(`echo ${quoted} end`)).to.deep.equal(['echo', "; rm -rf / #'", 'end']);
  });

  it('creates: an existing path skips the command after one read-only check', async () => {
    const { steps, outcome } = await drive(commandModule, { cmd: 'make', creates: '/opt/x' }, scripted([[/^test -e/, exec(0)]]));
    expect(steps).to.have.length(1);
    expect(steps[0]).to.include({ kind: 'exec', command: 'test -e /opt/x', readOnly: true });
    expect(outcome.changed).to.equal(false);
    expect(outcome.msg).to.match(/exists/);
  });

  it('removes: a missing path skips the command', async () => {
    const { lines, outcome } = await drive(commandModule, { cmd: 'rm x', removes: '/opt/x' }, scripted([[/^test -e/, exec(1)]]));
    expect(lines).to.deep.equal(['test -e /opt/x']);
    expect(outcome.changed).to.equal(false);
  });

  it('a non-zero exit fails with Ansible result fields', async () => {
    const { outcome } = await drive(commandModule, { cmd: 'false' }, scripted([[/false/, exec(2, 'a\nb\n', 'boom\n')]]));
    expect(outcome.failed).to.equal(true);
    expect(outcome.msg).to.equal('non-zero return code');
    expect(outcome.result).to.include({ rc: 2, stdout: 'a\nb', stderr: 'boom' });
    expect(outcome.result?.stdout_lines).to.deep.equal(['a', 'b']);
    expect(outcome.result?.stderr_lines).to.deep.equal(['boom']);
    expect(outcome.result?.delta).to.match(/^0:00:\d\d\.\d{6}$/);
    expect(outcome.result?.cmd).to.deep.equal(['false']);
  });

  it('check(): unterminated quotes are reported before anything runs', () => {
    expect(commandModule.check?.({ cmd: "echo 'oops" })).to.have.length(1);
    expect(commandModule.check?.({ cmd: 'echo fine' })).to.deep.equal([]);
  });
});

describe('shell module', () => {
  it('passes the playbook text through; executable and chdir are quoted', async () => {
    expect((await drive(shellModule, { cmd: 'echo $HOME | wc -c' })).lines).to.deep.equal(['echo $HOME | wc -c']);
    expect((await drive(shellModule, { cmd: 'echo "$0"', executable: '/bin/bash' })).lines).to.deep.equal(['/bin/bash -c \'echo "$0"\'']);
    expect((await drive(shellModule, { cmd: 'pwd', chdir: '/var/lib/etcd' })).lines).to.deep.equal(['cd -- /var/lib/etcd || exit 1; pwd']);
  });

  it('under dry-run the command is planned, not answered, and the outcome says changed', async () => {
    const { steps, outcome } = await drive(shellModule, { cmd: 'systemctl restart etcd' }, dryRun(scripted()));
    expect(steps).to.have.length(1);
    expect(steps[0]).to.not.have.property('readOnly');
    expect(outcome.changed).to.equal(true);
  });
});
