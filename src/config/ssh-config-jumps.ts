// The jump hosts in front of a host, each with its own settings, as OpenSSH builds them: for
// `ProxyJump a,b` ssh runs `ssh -J a b` to reach the host, so `b` is resolved with `a` as its (command
// line) ProxyJump, and `a`, given none, with its own ProxyJump from ssh_config. First hop first.
import { ConfigError, type SourceLocation } from '../errors.js';
import type { SshConfig } from './ssh-config.js';
import { badHostChar } from './ssh-config-refusals.js';
import { resolveSshOptions, type ResolvedSsh, type SshLocal } from './ssh-config-resolve.js';
import { formatJumpHops, parseProxyJump } from './ssh-jump.js';

/** Longer chains are taken for a loop. */
const maxHops = 10;

function chainProblem(target: ResolvedSsh, message: string, hint: string): ConfigError {
  const loc: SourceLocation | undefined = target.proxyJump?.loc;
  return new ConfigError([{ severity: 'error', code: 'ssh-config.proxy-jump', message, hint, ...(loc ? { loc } : {}) }]);
}

export function resolveJumpChain(config: SshConfig, target: ResolvedSsh, local: SshLocal, depth = 0): ResolvedSsh[] {
  const jump = target.proxyJump;
  if (!jump) return [];
  if (depth >= maxHops) {
    throw chainProblem(
      target,
      `ProxyJump of ${target.hostArg} leads through more than ${maxHops} jump hosts (a loop?)`,
      'check the ProxyJump lines of these hosts',
    );
  }
  const parsed = parseProxyJump(jump.value);
  if (parsed.kind !== 'chain') {
    const why = parsed.kind === 'error' ? parsed.message : 'none';
    throw chainProblem(target, `cannot use ProxyJump "${jump.value}" of ${target.hostArg}: ${why}`, 'write ProxyJump [user@]host[:port][,...]');
  }
  const last = parsed.hops.at(-1);
  if (!last) return [];
  // ssh_config's ProxyJump is passed through a shell by ssh 9.2, which would remove quotes: refuse them here,
  // at the ProxyJump line (checkNames, run on each hop by resolveSshOptions, could not name that line).
  const odd = parsed.hops.find((hop) => hop.host.startsWith('-') || badHostChar.test(`${hop.host}${hop.user ?? ''}`));
  if (odd) {
    throw chainProblem(
      target,
      `ProxyJump ${jump.value} of ${target.hostArg} names the jump host ${JSON.stringify(odd.host)}, with quotes, shell characters or a leading "-"`,
      'write the jump hosts plainly: ProxyJump [user@]host[:port][,...]',
    );
  }
  const before = parsed.hops.slice(0, -1);
  const hop = resolveSshOptions(
    config,
    last.host,
    {
      ...(last.user !== undefined ? { user: last.user } : {}),
      ...(last.port !== undefined ? { port: last.port } : {}),
      ...(before.length > 0 ? { proxyJump: formatJumpHops(before) } : {}),
    },
    local,
  );
  if (hop.hostname === target.hostname && hop.port === target.port && hop.user === target.user) {
    throw chainProblem(
      target,
      `${target.hostArg} jumps through itself (${hop.user}@${hop.hostname}:${hop.port})`,
      'remove the ProxyJump of the jump host itself (Host bastion / ProxyJump none)',
    );
  }
  return [...resolveJumpChain(config, hop, local, depth + 1), hop];
}
