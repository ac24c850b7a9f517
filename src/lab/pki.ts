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

export interface CertificateRequest {
  cert: string;
  key: string;
  commonName: string;
  /** Subject O; default orchestrate-lab; '' for none. */
  organization?: string;
  /** openssl x509 extension lines (basicConstraints, keyUsage, extendedKeyUsage, subjectAltName...). */
  extensions: string;
  /** A folder for the request and extension files (removed afterwards). */
  workDir: string;
  caFile: string;
  caKeyFile: string;
}

/** An EC P-256 key (0600, never readable by others) and its certificate signed by the given CA. */
export async function issueCertificate(request: CertificateRequest): Promise<void> {
  const base = join(request.workDir, `${request.commonName}-${randomBytes(4).toString('hex')}`);
  const csr = `${base}.csr`;
  const extFile = `${base}.ext`;
  await createPrivateFile(request.key);
  await writeFile(extFile, request.extensions);
  const organization = request.organization ?? 'orchestrate-lab';
  const subject = `${organization ? `/O=${organization}` : ''}/CN=${request.commonName}`;
  await openssl(
    ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', request.key, '-out', csr, '-subj', subject],
    `creating the key of ${request.commonName}`,
  );
  await openssl(
    ['x509', '-req', '-in', csr, '-CA', request.caFile, '-CAkey', request.caKeyFile, '-set_serial', serial(), '-days', validDays, '-sha256', '-extfile', extFile, '-out', request.cert],
    `signing the certificate of ${request.commonName}`,
  );
  await rm(csr, { force: true });
  await rm(extFile, { force: true });
}

/** A self-signed CA: EC P-256 key (0600) and certificate. */
export async function createCa(options: { cert: string; key: string; commonName: string; organization?: string; workDir: string }): Promise<void> {
  const caConfig = join(options.workDir, `ca-${randomBytes(4).toString('hex')}.cnf`);
  await writeFile(
    caConfig,
    ['[req]', 'distinguished_name = dn', 'x509_extensions = v3_ca', '[dn]', '[v3_ca]', 'basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash', ''].join('\n'),
  );
  await createPrivateFile(options.key);
  await openssl(
    ['req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', options.key, '-out', options.cert, '-days', validDays, '-sha256', '-subj', `${options.organization ? `/O=${options.organization}` : ''}/CN=${options.commonName}`, '-config', caConfig],
    `creating the CA ${options.commonName}`,
  );
  await rm(caConfig, { force: true });
}

export const leafExtensions = ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature, keyEncipherment', 'authorityKeyIdentifier = keyid'];

/** Creates DIR/pki: ca.pem, etcd.pem (SANs: every member address, 127.0.0.1, localhost), client.pem; keys 0600. */
export async function createLabPki(paths: LabPaths, addresses: readonly string[]): Promise<void> {
  await createLabCa(paths, 'orchestrate-lab-ca', 'orchestrate-lab');
  const altNames = [...addresses.map((address) => `IP:${address}`), 'IP:127.0.0.1', 'DNS:localhost'].join(', ');
  const ca = { workDir: paths.pkiDir, caFile: paths.caFile, caKeyFile: paths.caKeyFile };
  await Promise.all([
    issueCertificate({ ...ca, cert: paths.certFile, key: paths.certKeyFile, commonName: 'etcd', extensions: [...leafExtensions, 'extendedKeyUsage = serverAuth, clientAuth', `subjectAltName = ${altNames}`, ''].join('\n') }),
    issueDeployClient(paths),
  ]);
}

/** DIR/pki with the lab's CA (for kubeadm labs, the etcd CA every member trusts). */
export async function createLabCa(paths: LabPaths, commonName: string, organization?: string): Promise<void> {
  await mkdir(paths.pkiDir, { recursive: true, mode: 0o700 });
  await createCa({ cert: paths.caFile, key: paths.caKeyFile, commonName, workDir: paths.pkiDir, ...(organization ? { organization } : {}) });
}

/** The deploy host's own client certificate (DIR/pki/client.pem), signed by the lab's CA. */
export async function issueDeployClient(paths: LabPaths): Promise<void> {
  await issueCertificate({
    workDir: paths.pkiDir,
    caFile: paths.caFile,
    caKeyFile: paths.caKeyFile,
    cert: paths.clientCertFile,
    key: paths.clientKeyFile,
    commonName: 'orchestrate-deploy',
    extensions: [...leafExtensions, 'extendedKeyUsage = clientAuth', ''].join('\n'),
  });
}
