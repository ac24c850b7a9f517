// What an etcd member's name, data dir and URLs may be, whoever supplies them: the inventory, or a
// member's own unit or manifest when the inventory leaves them at their defaults. A restore builds
// `--initial-cluster` from the names and moves the data dirs aside, so the same rules hold for both.

/** Folders that must never be an etcd data dir: a restore moves the data dir aside and replaces it. */
const systemDirs = new Set([
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib64',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
  '/var/lib',
]);

// etcd joins names into `--initial-cluster name=url,...`: commas, `=` and spaces would corrupt it.
const ETCD_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
export const CONTROL = /[\u0000-\u001f\u007f]/;

export const etcdNameExpected = 'letters, digits, ".", "_", ":" and "-", starting with a letter or digit';

/** Why a member name cannot be used, or undefined. */
export function invalidEtcdName(name: string): string | undefined {
  return ETCD_NAME.test(name) && name.length <= 255 ? undefined : 'is not valid';
}

/** Why a data dir (or WAL dir) cannot be used, or undefined; `system` when it is a system folder. */
export function invalidDataDir(path: string): { why: string; system?: true } | undefined {
  if (!path.startsWith('/')) return { why: 'is not an absolute path' };
  if (CONTROL.test(path)) return { why: 'contains a control character (newline, tab or NUL)' };
  if (path.split('/').includes('..')) return { why: 'contains ".."' };
  if (systemDirs.has(path.replace(/\/+$/, '') || '/'))
    return { why: 'is a system folder; a restore moves the data dir aside and replaces it', system: true };
  return undefined;
}

/** Why a peer or client URL cannot be used, or undefined; the parsed URL when it is fine. */
export function checkEtcdUrl(url: string): { why: string } | { parsed: URL } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { why: 'is not a URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return { why: 'must use http or https' };
  if (parsed.hostname === '') return { why: 'has no host' };
  if (parsed.port === '') return { why: 'has no port' };
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search || parsed.hash || parsed.username || parsed.password)
    return { why: 'must be just scheme://host:port' };
  return { parsed };
}
