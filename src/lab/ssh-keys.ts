// SSH keys of a lab: the client key pair the deploy host logs in with, and each host's own host keys.
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabPaths } from './paths.js';
import { runChecked } from './run-program.js';

/** Host key types each lab sshd offers (both are quick to generate; RSA is not). */
export const labHostKeyTypes = ['ed25519', 'ecdsa'] as const;

async function sshKeygen(type: string, file: string, comment: string): Promise<string> {
  await rm(file, { force: true });
  await rm(`${file}.pub`, { force: true });
  await runChecked('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', comment, '-f', file], { timeoutMs: 20_000, what: `creating ${file}` });
  await chmod(file, 0o600);
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

/** DIR/ssh/id_ed25519 (0600) and DIR/ssh/authorized_keys, which every lab sshd reads for root and deploy. */
export async function createClientKey(paths: LabPaths): Promise<string> {
  await mkdir(paths.sshDir, { recursive: true, mode: 0o700 });
  const publicKey = await sshKeygen('ed25519', paths.keyFile, 'orchestrate-lab');
  await writeFile(paths.authorizedKeysFile, `${publicKey}\n`, { mode: 0o644 });
  return publicKey;
}

export interface HostPublicKey {
  /** e.g. `ssh-ed25519`. */
  keyType: string;
  /** The base64 key field of a known_hosts line. */
  key: string;
}

/** Generates `/etc/ssh/ssh_host_<type>_key` into `sshDir` (the host's upper layer) and returns the public keys. */
export async function createHostKeys(sshDir: string, address: string): Promise<HostPublicKey[]> {
  await mkdir(sshDir, { recursive: true, mode: 0o755 });
  return Promise.all(
    labHostKeyTypes.map(async (type) => {
      const line = await sshKeygen(type, join(sshDir, `ssh_host_${type}_key`), `root@${address}`);
      const [keyType, key] = line.split(/\s+/);
      if (!keyType || !key) throw new Error(`unexpected public key line from ssh-keygen: ${line}`);
      return { keyType, key };
    }),
  );
}
