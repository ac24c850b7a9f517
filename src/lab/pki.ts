// The lab's CA and certificates, made with the openssl CLI: one etcd server/peer certificate for every member
// (kubeasz uses one etcd cert for all members) and a client certificate for the deploy host.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabPaths } from './paths.js';
import { runChecked } from './run-program.js';

const validDays = '3650';

async function createPrivateFile(file: string): Promise<void> {
  // openssl keeps the mode of an existing file, so the key is never readable by others, not even briefly.
  await writeFile(file, '', { mode: 0o600 });
  await chmod(file, 0o600);
}

async function openssl(args: string[], what: string): Promise<void> {
  await runChecked('openssl', args, { timeoutMs: 20_000, what });
}

function serial(): string {
  return `0x${randomBytes(16).toString('hex').replace(/^./, '1')}`;
}

async function issue(
  paths: LabPaths,
  name: { cert: string; key: string; commonName: string },
  extensions: string,
): Promise<void> {
  const csr = join(paths.pkiDir, `${name.commonName}.csr`);
  const extFile = join(paths.pkiDir, `${name.commonName}.ext`);
  await createPrivateFile(name.key);
  await writeFile(extFile, extensions);
  await openssl(
    ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', name.key, '-out', csr, '-subj', `/O=orchestrate-lab/CN=${name.commonName}`],
    `creating the key of ${name.commonName}`,
  );
  await openssl(
    ['x509', '-req', '-in', csr, '-CA', paths.caFile, '-CAkey', paths.caKeyFile, '-set_serial', serial(), '-days', validDays, '-sha256', '-extfile', extFile, '-out', name.cert],
    `signing the certificate of ${name.commonName}`,
  );
  await rm(csr, { force: true });
  await rm(extFile, { force: true });
}

/** Creates DIR/pki: ca.pem, etcd.pem (SANs: every member address, 127.0.0.1, localhost), client.pem; keys 0600. */
export async function createLabPki(paths: LabPaths, addresses: readonly string[]): Promise<void> {
  await mkdir(paths.pkiDir, { recursive: true, mode: 0o700 });
  const caConfig = join(paths.pkiDir, 'ca.cnf');
  await writeFile(
    caConfig,
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = v3_ca',
      '[dn]',
      '[v3_ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await createPrivateFile(paths.caKeyFile);
  await openssl(
    ['req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', paths.caKeyFile, '-out', paths.caFile, '-days', validDays, '-sha256', '-subj', '/O=orchestrate-lab/CN=orchestrate-lab-ca', '-config', caConfig],
    'creating the lab CA',
  );
  await rm(caConfig, { force: true });

  const altNames = [...addresses.map((address) => `IP:${address}`), 'IP:127.0.0.1', 'DNS:localhost'].join(', ');
  const common = ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature, keyEncipherment', 'authorityKeyIdentifier = keyid'];
  await Promise.all([
    issue(paths, { cert: paths.certFile, key: paths.certKeyFile, commonName: 'etcd' }, [...common, 'extendedKeyUsage = serverAuth, clientAuth', `subjectAltName = ${altNames}`, ''].join('\n')),
    issue(paths, { cert: paths.clientCertFile, key: paths.clientKeyFile, commonName: 'orchestrate-deploy' }, [...common, 'extendedKeyUsage = clientAuth', ''].join('\n')),
  ]);
}
