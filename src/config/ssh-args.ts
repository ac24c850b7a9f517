// `ansible_ssh_common_args` and `ansible_ssh_extra_args` are ssh command-line words. orchestrate has no
// ssh process to hand them to, so it reads only the jump host options (`-J HOST`, `-o ProxyJump=HOST`)
// and refuses those that would change where or as whom it connects, with which keys, or which host key
// it trusts; everything else is ignored.

export interface SshArgsReading {
  /** The first ProxyJump given (ssh keeps the first), in ProxyJump syntax. */
  proxyJump?: string;
  /** Options refused, each a sentence naming the option and the fix. */
  refused: string[];
}

/** ssh's options that take a value (from its getopt string). */
const withValue = new Set('BbcDEeFIiJLlmOoPpQRSWw'.split(''));

/** `-o` keywords that change where or as whom orchestrate would connect, with what to use instead. */
const refusedKeywords: Record<string, string> = {
  proxycommand: 'use -o ProxyJump=HOST (or ssh_jump_hosts) instead; orchestrate does not run proxy commands',
  proxyusefdpass: 'use -o ProxyJump=HOST (or ssh_jump_hosts) instead; orchestrate does not run proxy commands',
  hostname: 'set ansible_host instead',
  port: 'set ansible_port instead',
  user: 'set ansible_user instead',
  identityfile: 'set ansible_ssh_private_key_file instead',
  identityagent: 'orchestrate uses the agent of SSH_AUTH_SOCK; set that variable instead',
  certificatefile: 'orchestrate cannot present SSH certificates; use a key the server accepts without one',
  pkcs11provider: 'load the token keys into ssh-agent (ssh-add -s PROVIDER) instead',
  smartcarddevice: 'load the card keys into ssh-agent (ssh-add -s PROVIDER) instead',
  hostkeyalias: 'orchestrate looks host keys up under the host name and port; record the key under those instead',
  canonicalizehostname: 'set ansible_host to the full name instead',
};

/**
 * Values that turn a refused keyword off and change nothing orchestrate does. Not `ProxyCommand=none` (ssh
 * would then skip ssh_config's ProxyJump) nor `IdentityFile=none` (ssh would then skip its default keys).
 */
const isOff = (value: string): boolean => /^(?:no|false)$/i.test(value);
const offValues: Record<string, (value: string, env: NodeJS.ProcessEnv) => boolean> = {
  proxyusefdpass: isOff,
  certificatefile: (value) => value === 'none',
  pkcs11provider: (value) => value === 'none',
  smartcarddevice: (value) => value === 'none',
  // orchestrate uses the agent of SSH_AUTH_SOCK: `none` is the same only when that is unset.
  identityagent: (value, env) => value === 'SSH_AUTH_SOCK' || (value === 'none' && (env.SSH_AUTH_SOCK ?? '') === ''),
};

const refusedFlags: Record<string, string> = {
  F: 'give the file with --ssh-config instead',
  W: 'remove it; orchestrate opens its own connections',
  p: 'set ansible_port instead',
  l: 'set ansible_user instead',
  i: 'set ansible_ssh_private_key_file instead',
  I: 'load the token keys into ssh-agent (ssh-add -s PROVIDER) instead',
};

/**
 * Python's shlex.split (POSIX mode), as Ansible splits these variables: white space separates words,
 * 'single' quotes are literal, "double" quotes and backslashes escape. Undefined for an unclosed quote.
 */
export function shellWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let quote = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charAt(i);
    if (quote === "'") {
      if (char === "'") quote = '';
      else word = (word ?? '') + char;
    } else if (quote === '"') {
      if (char === '"') quote = '';
      else if (char === '\\' && /["\\$`]/.test(text.charAt(i + 1))) word = (word ?? '') + text.charAt(++i);
      else word = (word ?? '') + char;
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= '';
    } else if (char === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text.charAt(++i);
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quote !== '') return undefined;
  if (word !== undefined) words.push(word);
  return words;
}

function readOption(option: string, reading: SshArgsReading, variable: string, env: NodeJS.ProcessEnv): void {
  const match = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/s.exec(option);
  if (!match) {
    reading.refused.push(`${variable}: cannot read -o "${option}" (expected -o Keyword=value)`);
    return;
  }
  const keyword = (match[1] ?? '').toLowerCase();
  const value = (match[2] ?? '').trim();
  if (keyword === 'proxyjump') reading.proxyJump ??= value;
  const instead = refusedKeywords[keyword];
  if (instead && offValues[keyword]?.(value, env) !== true)
    reading.refused.push(`${variable}: -o ${match[1] ?? keyword} is not supported: ${instead}`);
}

/**
 * Reads one variable's words into `reading` (earlier variables' values win, as ssh keeps the first);
 * `env` is where SSH_AUTH_SOCK is read.
 */
export function readSshArgs(
  text: string,
  variable: string,
  reading: SshArgsReading = { refused: [] },
  env: NodeJS.ProcessEnv = process.env,
): SshArgsReading {
  const words = shellWords(text);
  if (!words) {
    reading.refused.push(`${variable}: unbalanced quotes in "${text}"`);
    return reading;
  }
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] ?? '';
    if (!word.startsWith('-') || word === '-' || word.startsWith('--')) continue; // not an option ssh would read here
    for (let at = 1; at < word.length; at += 1) {
      const flag = word.charAt(at);
      if (!withValue.has(flag)) continue;
      const attached = word.slice(at + 1);
      const value = attached !== '' ? attached : words[++i];
      if (value === undefined) {
        reading.refused.push(`${variable}: -${flag} needs a value`);
        break;
      }
      if (flag === 'o') readOption(value, reading, variable, env);
      else if (flag === 'J') reading.proxyJump ??= value;
      else if (refusedFlags[flag]) reading.refused.push(`${variable}: -${flag} is not supported: ${refusedFlags[flag]}`);
      break;
    }
  }
  return reading;
}
