// The non-root `deploy` user of every lab host (for `become` tests): passwd, shadow, group and sudoers entries
// derived from the deploy host's own files, written into the host's upper layer.
import { chmod, chown, readFile, stat } from 'node:fs/promises';
import { labDeployUser } from './paths.js';
import { ensureUpperDir, writeUpperFile } from './upper-files.js';

interface Account {
  uid: number;
  gid: number;
}

function idsIn(text: string, field: number): Set<number> {
  return new Set(
    text
      .split('\n')
      .map((line) => Number(line.split(':')[field]))
      .filter((id) => Number.isInteger(id)),
  );
}

function pickAccount(passwd: string, group: string): Account {
  const existing = passwd.split('\n').find((line) => line.startsWith(`${labDeployUser}:`));
  if (existing) {
    const [, , uid, gid] = existing.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  }
  const usedUids = idsIn(passwd, 2);
  const usedGids = idsIn(group, 2);
  let id = 2000;
  while (usedUids.has(id) || usedGids.has(id)) id += 1;
  return { uid: id, gid: id };
}

function withLine(text: string, name: string, line: string): string {
  const lines = text.split('\n').filter((existing) => existing !== '' && !existing.startsWith(`${name}:`));
  return `${[...lines, line].join('\n')}\n`;
}

async function modeOf(file: string, fallback: number): Promise<{ mode: number; uid: number; gid: number }> {
  const info = await stat(file).catch(() => undefined);
  return info ? { mode: info.mode & 0o7777, uid: info.uid, gid: info.gid } : { mode: fallback, uid: 0, gid: 0 };
}

/** Adds `deploy` (no password, key login only, passwordless sudo) to the host's /etc files. */
export async function addDeployUser(upperDir: string): Promise<Account> {
  const [passwd, group, shadow] = await Promise.all(
    ['/etc/passwd', '/etc/group', '/etc/shadow'].map((file) => readFile(file, 'utf8').catch(() => '')),
  );
  const account = pickAccount(passwd ?? '', group ?? '');
  const home = `/home/${labDeployUser}`;
  const passwdLine = `${labDeployUser}:x:${account.uid}:${account.gid}:orchestrate lab deploy user:${home}:/bin/bash`;
  // `*`: no password can match, but the account is not locked (a leading `!` would make sshd refuse the key).
  const shadowLine = `${labDeployUser}:*:20000:0:99999:7:::`;
  const groupLine = `${labDeployUser}:x:${account.gid}:`;
  await writeUpperFile(upperDir, '/etc/passwd', withLine(passwd ?? '', labDeployUser, passwdLine), await modeOf('/etc/passwd', 0o644));
  await writeUpperFile(upperDir, '/etc/group', withLine(group ?? '', labDeployUser, groupLine), await modeOf('/etc/group', 0o644));
  await writeUpperFile(upperDir, '/etc/shadow', withLine(shadow ?? '', labDeployUser, shadowLine), await modeOf('/etc/shadow', 0o640));
  await writeUpperFile(upperDir, `/etc/sudoers.d/${labDeployUser}`, `# orchestrate lab\n${labDeployUser} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  await ensureUpperDir(upperDir, '/home');
  await writeUpperFile(upperDir, `${home}/.profile`, '# orchestrate lab deploy user\n', { mode: 0o644, ...account });
  await chown(`${upperDir}${home}`, account.uid, account.gid);
  await chmod(`${upperDir}${home}`, 0o755);
  return account;
}
