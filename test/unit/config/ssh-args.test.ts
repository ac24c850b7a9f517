// Jump hosts from the inventory: ansible_ssh_common_args / ansible_ssh_extra_args (only -J and
// -o ProxyJump are read; options that change where or as whom we connect are refused) and ssh_jump_hosts.
import { expect } from 'chai';
import { connectionFor, jumpHostsFor } from '../../../src/config/connection.js';
import { readSshArgs, shellWords } from '../../../src/config/ssh-args.js';
import { formatJumpHops, parseProxyJump } from '../../../src/config/ssh-jump.js';
import type { InventoryHost } from '../../../src/config/types.js';
import { ConfigError } from '../../../src/errors.js';

const host = (vars: Record<string, unknown>): InventoryHost => ({
  name: 'h1',
  vars,
  groups: ['all'],
  loc: { file: 'inventory.yml', line: 7, col: 5 },
});

describe('ssh arguments of the inventory', () => {
  it('splits words as Python shlex does (Ansible splits these variables with it)', () => {
    const table: [string, string[] | undefined][] = [
      [`-o 'ProxyJump=a b' -J"x y"`, ['-o', 'ProxyJump=a b', '-Jx y']],
      [String.raw`-o ProxyJump=a\ b "q\"uote" 'lit\eral'`, ['-o', 'ProxyJump=a b', 'q"uote', String.raw`lit\eral`]],
      ['  many   spaces\tand\ttabs ', ['many', 'spaces', 'and', 'tabs']],
      [`'' ""`, ['', '']],
      [`-o "unclosed`, undefined],
    ];
    for (const [text, words] of table) expect(shellWords(text), text).to.deep.equal(words);
  });

  it('reads -J and -o ProxyJump in their spellings; the first one wins, as in ssh', () => {
    const table: [string, string | undefined][] = [
      ['-J bastion', 'bastion'],
      ['-Jops@bastion:2222', 'ops@bastion:2222'],
      ['-o ProxyJump=j1,j2', 'j1,j2'],
      ['-oProxyJump=j1', 'j1'],
      ['-o "ProxyJump j3"', 'j3'],
      ['-o proxyjump = j4', undefined], // ssh reads `proxyjump` then `=`... as separate words: not an option here
      ['-C -o ControlMaster=auto -o ControlPersist=60s', undefined],
      ['-o ProxyJump=first -J second', 'first'],
      ['-vCJ bastion', 'bastion'],
      ['-i key -J bastion', 'bastion'],
    ];
    for (const [text, jump] of table) {
      const reading = readSshArgs(text, 'ansible_ssh_common_args');
      expect(reading.proxyJump, text).to.equal(jump);
    }
  });

  it('refuses what would change where or as whom orchestrate connects, naming the option and the fix', () => {
    const table: [string, RegExp][] = [
      ['-o ProxyCommand="ssh -W %h:%p bastion"', /-o ProxyCommand is not supported: use -o ProxyJump=HOST/],
      ['-o Port=2222', /-o Port is not supported: set ansible_port instead/],
      ['-o HostName=10.0.0.1', /-o HostName is not supported: set ansible_host instead/],
      ['-l admin', /-l is not supported: set ansible_user instead/],
      ['-p 2222', /-p is not supported: set ansible_port instead/],
      ['-F ~/.ssh/other', /-F is not supported: give the file with --ssh-config instead/],
      ['-W host:22', /-W is not supported/],
      ['-i ~/.ssh/deploy', /-i is not supported: set ansible_ssh_private_key_file instead/],
      ['-o IdentityFile=~/.ssh/deploy', /-o IdentityFile is not supported: set ansible_ssh_private_key_file instead/],
      ['-o IdentityAgent=~/.1password/agent.sock', /-o IdentityAgent is not supported: .*SSH_AUTH_SOCK/],
      ['-o CertificateFile=~/.ssh/id-cert.pub', /-o CertificateFile is not supported/],
      ['-I /usr/lib/opensc-pkcs11.so', /-I is not supported: load the token keys into ssh-agent/],
      ['-o PKCS11Provider=/usr/lib/opensc-pkcs11.so', /-o PKCS11Provider is not supported: load the token keys into ssh-agent/],
      ['-o HostKeyAlias=pinned', /-o HostKeyAlias is not supported/],
      ['-J', /-J needs a value/],
    ];
    for (const [text, message] of table) {
      const reading = readSshArgs(text, 'ansible_ssh_extra_args');
      expect(reading.refused, text).to.have.length(1);
      expect(reading.refused[0], text)
        .to.match(message)
        .and.to.match(/^ansible_ssh_extra_args: /);
    }
    expect(readSshArgs('-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -C', 'x').refused, 'other options are ignored').to.deep.equal([]);
  });

  it('lets through -o values that turn a refused option off, and only those', () => {
    const withAgent = { SSH_AUTH_SOCK: '/run/agent.sock' };
    const off = [
      '-o ProxyUseFdpass=no',
      '-o CertificateFile=none',
      '-o PKCS11Provider=none',
      '-o SmartcardDevice=none',
      '-o IdentityAgent=SSH_AUTH_SOCK',
    ];
    for (const text of off) expect(readSshArgs(text, 'x', { refused: [] }, withAgent).refused, text).to.deep.equal([]);
    expect(readSshArgs('-o IdentityAgent=none', 'x', { refused: [] }, {}).refused, 'no agent either way').to.deep.equal([]);
    // CanonicalizeHostname=no would skip ssh_config's second pass, which orchestrate still runs: refused either way.
    const still = [
      '-o IdentityAgent=none',
      '-o CanonicalizeHostname=yes',
      '-o CanonicalizeHostname=no',
      '-o ProxyCommand=none',
      '-o IdentityFile=none',
      '-o HostKeyAlias=none',
    ];
    for (const text of still) expect(readSshArgs(text, 'x', { refused: [] }, withAgent).refused, text).to.have.length(1);
  });

  it('parses ProxyJump values as OpenSSH does, and writes them back', () => {
    expect(parseProxyJump('none')).to.deep.equal({ kind: 'none' });
    expect(parseProxyJump('NONE # comment')).to.deep.equal({ kind: 'none' });
    const chain = parseProxyJump('ops@b1:2222,ssh://admin@b2:22,[fd00::1]:2200,b4');
    expect(chain).to.deep.equal({
      kind: 'chain',
      hops: [{ user: 'ops', host: 'b1', port: 2222 }, { user: 'admin', host: 'b2', port: 22 }, { host: 'fd00::1', port: 2200 }, { host: 'b4' }],
    });
    if (chain.kind === 'chain') expect(formatJumpHops(chain.hops)).to.equal('ops@b1:2222,admin@b2:22,[fd00::1]:2200,b4');
    for (const bad of ['', '@b1', 'b1:0', 'b1:70000', 'b1:x', '[fd00::1', 'ssh://[fd00::1]:22', 'fd00::1', 'a,,b'])
      expect(parseProxyJump(bad).kind, bad).to.equal('error');
  });
});

describe('jump hosts of an inventory host', () => {
  it('ssh_jump_hosts (a string or a list, first hop first) comes before the ssh args variables', () => {
    expect(connectionFor(host({ ssh_jump_hosts: 'ops@b1:2222' })).proxyJump).to.equal('ops@b1:2222');
    expect(connectionFor(host({ ssh_jump_hosts: ['b1', 'b2:2200'], ansible_ssh_common_args: '-J other' })).proxyJump).to.equal('b1,b2:2200');
    expect(connectionFor(host({ ssh_jump_hosts: 'none', ansible_ssh_common_args: '-J other' })).proxyJump).to.equal('none');
    expect(connectionFor(host({ ssh_jump_hosts: [] })).proxyJump).to.equal('none');
    expect(connectionFor(host({ ansible_ssh_common_args: '-J common', ansible_ssh_extra_args: '-J extra' })).proxyJump).to.equal('common');
    expect(connectionFor(host({ ansible_ssh_extra_args: '-o ProxyJump=extra' })).proxyJump).to.equal('extra');
    expect(connectionFor(host({})).proxyJump).to.equal(undefined);
    expect(connectionFor(host({ ansible_connection: 'local', ssh_jump_hosts: 'b1' })).proxyJump, 'local hosts take no jump').to.equal(undefined);
  });

  it('a bad value is a ConfigError at the host, naming the variable and the fix', () => {
    const table: [Record<string, unknown>, RegExp][] = [
      [{ ssh_jump_hosts: 'b1:99999' }, /ssh_jump_hosts: "b1:99999": bad port/],
      [{ ssh_jump_hosts: [1, 2] }, /ssh_jump_hosts must be a string or a list of strings/],
      [{ ansible_ssh_common_args: '-o ProxyCommand=nc' }, /ansible_ssh_common_args: -o ProxyCommand is not supported/],
      [{ ansible_ssh_common_args: '-J {{ bastion }}' }, /ansible_ssh_common_args must be a literal string/],
      [{ ansible_ssh_extra_args: '-J b1:x' }, /ansible_ssh_extra_args: invalid ProxyJump/],
    ];
    for (const [vars, message] of table) {
      let error: unknown;
      try {
        connectionFor(host(vars));
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(vars)).to.be.instanceOf(ConfigError);
      const problem = (error as ConfigError).problems[0];
      expect(problem?.message)
        .to.match(message)
        .and.to.match(/^host h1: /);
      expect(problem?.loc).to.deep.equal({ file: 'inventory.yml', line: 7, col: 5 });
      expect(problem?.hint).to.be.a('string');
    }
  });

  it('reports every problem of a host, for checks that point at the variable', () => {
    const { problems } = jumpHostsFor(host({ ansible_ssh_common_args: '-p 22 -l x', ssh_jump_hosts: 'b1:0' }));
    expect(problems.map((problem) => problem.variable)).to.deep.equal(['ssh_jump_hosts', 'ansible_ssh_common_args', 'ansible_ssh_common_args']);
  });

  it('marks port and user as defaults when the inventory leaves them out (ssh_config may set them)', () => {
    expect(connectionFor(host({})).defaulted).to.deep.equal(['port', 'user']);
    expect(connectionFor(host({ ansible_port: 2222 })).defaulted).to.deep.equal(['user']);
    expect(connectionFor(host({ ansible_port: '2222', ansible_user: 'deploy' })).defaulted).to.equal(undefined);
  });
});
