// Shared by the ssh_config tests: Debian's OpenSSH client as the oracle (`ssh -G HOST -F FILE`), and
// orchestrate's resolution printed in ssh -G's words, so the two can be compared field by field.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname as osHostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors.js';
import { loadSshConfig } from '../../../src/config/ssh-config.js';
import { resolveSshOptions, type ResolvedSsh, type SshCommandLine, type SshLocal } from '../../../src/config/ssh-config-resolve.js';

export const sshAvailable = spawnSync('ssh', ['-V']).status === 0;
export const local: SshLocal = { user: userInfo().username, homeDir: userInfo().homedir, uid: userInfo().uid, hostname: osHostname() };
/** What ssh -G lists when no IdentityFile is set. */
const defaultIdentityFiles = [
  '~/.ssh/id_rsa',
  '~/.ssh/id_ecdsa',
  '~/.ssh/id_ecdsa_sk',
  '~/.ssh/id_ed25519',
  '~/.ssh/id_ed25519_sk',
  '~/.ssh/id_xmss',
  '~/.ssh/id_dsa',
];

export interface Case {
  name: string;
  /** The main file; `$DIR` is the case's folder. Extra files are written beside it. */
  config: string;
  files?: Record<string, string>;
  hosts: string[];
  commandLine?: SshCommandLine;
}

const fields = [
  'user',
  'hostname',
  'port',
  'identityfile',
  'identitiesonly',
  'proxyjump',
  'proxycommand',
  'connecttimeout',
  'serveraliveinterval',
  'serveralivecountmax',
  'userknownhostsfile',
  'globalknownhostsfile',
  'stricthostkeychecking',
];

/** The fields we compare, from `ssh -G` output (repeated keys joined with newlines). */
export function oracle(file: string, host: string, commandLine: SshCommandLine = {}): Record<string, string> {
  const args = ['-G', '-F', file];
  if (commandLine.user !== undefined) args.push('-o', `User=${commandLine.user}`);
  if (commandLine.port !== undefined) args.push('-o', `Port=${commandLine.port}`);
  for (const key of commandLine.identityFiles ?? []) args.push('-o', `IdentityFile=${key}`);
  if (commandLine.proxyJump !== undefined) args.push('-o', `ProxyJump=${commandLine.proxyJump}`);
  const output = execFileSync('ssh', [...args, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const found: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ');
    const key = line.slice(0, space);
    if (!fields.includes(key)) continue;
    found[key] = found[key] === undefined ? line.slice(space + 1) : `${found[key]}\n${line.slice(space + 1)}`;
  }
  return found;
}

/** Ours, in ssh -G's words. */
export function asSshG(resolved: ResolvedSsh): Record<string, string> {
  const strict = { yes: 'true', no: 'false', ask: 'ask', 'accept-new': 'accept-new' }[resolved.strictHostKeyChecking.value];
  const view: Record<string, string> = {
    user: resolved.user,
    hostname: resolved.hostname,
    port: String(resolved.port),
    identityfile: (resolved.identityFiles.length > 0 ? resolved.identityFiles.map((entry) => entry.value) : defaultIdentityFiles).join('\n'),
    identitiesonly: resolved.identitiesOnly ? 'yes' : 'no',
    connecttimeout: resolved.connectTimeout === undefined ? 'none' : String(resolved.connectTimeout),
    serveraliveinterval: String(resolved.serverAliveInterval),
    serveralivecountmax: String(resolved.serverAliveCountMax),
    userknownhostsfile: resolved.userKnownHostsFiles.join(' '),
    globalknownhostsfile: resolved.globalKnownHostsFiles.length > 0 ? resolved.globalKnownHostsFiles.join(' ') : 'none',
    stricthostkeychecking: strict,
  };
  if (resolved.userKnownHostsFiles.length === 0) view.userknownhostsfile = 'none';
  if (resolved.proxyJump) view.proxyjump = resolved.proxyJump.value;
  return view;
}

export function writeCase(dir: string, testCase: Case): string {
  const file = join(dir, 'config');
  const fill = (text: string): string => text.replaceAll('$DIR', dir);
  writeFileSync(file, fill(testCase.config), { mode: 0o600 });
  for (const [name, text] of Object.entries(testCase.files ?? {})) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), fill(text), { mode: 0o600 });
  }
  return file;
}

/** The ConfigError a promise or function ends with. */
export async function configError(work: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await work();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** One test per case: each file (in a folder of its own) resolved by orchestrate and by `ssh -G`, host by host. */
export function describeOracleCases(title: string, cases: readonly Case[]): void {
  describe(title, function () {
    this.timeout(60_000);
    let root: string;
    before(function () {
      if (!sshAvailable) this.skip();
      root = mkdtempSync(join(tmpdir(), 'orchestrate-ssh-config-'));
    });
    after(() => {
      if (root) rmSync(root, { recursive: true, force: true });
    });

    cases.forEach((testCase, index) => {
      it(testCase.name, async () => {
        const dir = join(root, `case-${index}`);
        mkdirSync(dir);
        chmodSync(dir, 0o700);
        const file = writeCase(dir, testCase);
        const config = await loadSshConfig({ file, homeDir: local.homeDir, uid: local.uid });
        for (const host of testCase.hosts) {
          const ours = asSshG(resolveSshOptions(config, host, testCase.commandLine ?? {}, local));
          expect(ours, `host ${host}`).to.deep.equal(oracle(file, host, testCase.commandLine));
        }
      });
    });
  });
}
