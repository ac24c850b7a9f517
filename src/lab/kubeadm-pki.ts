// kubeadm's PKI layout on each control-plane host, written into its upper layer before it starts:
// /etc/kubernetes/pki/etcd/{ca,server,peer,healthcheck-client}.{crt,key} and
// /etc/kubernetes/pki/apiserver-etcd-client.{crt,key}. One etcd CA for the cluster (kubeadm copies it to
// every control-plane node), certificates of each node's own; keys 0600. kubeadm's default keys are RSA
// 2048; these are ECDSA P-256 (kubeadm's `encryptionAlgorithm: ECDSA-P256`), much quicker to make.
import { copyFile, chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { kubeadmEtcdPkiDir, kubeadmPkiDir, type KubeadmMember } from './kubeadm-manifests.js';
import type { LabPaths } from './paths.js';
import { issueCertificate, leafExtensions } from './pki.js';
import { ensureUpperDir } from './upper-files.js';

/** The files every kubeadm lab member has (paths inside the host). */
export const kubeadmPkiFiles = {
  ca: `${kubeadmEtcdPkiDir}/ca.crt`,
  caKey: `${kubeadmEtcdPkiDir}/ca.key`,
  server: `${kubeadmEtcdPkiDir}/server.crt`,
  serverKey: `${kubeadmEtcdPkiDir}/server.key`,
  peer: `${kubeadmEtcdPkiDir}/peer.crt`,
  peerKey: `${kubeadmEtcdPkiDir}/peer.key`,
  healthcheckClient: `${kubeadmEtcdPkiDir}/healthcheck-client.crt`,
  healthcheckClientKey: `${kubeadmEtcdPkiDir}/healthcheck-client.key`,
  apiserverEtcdClient: `${kubeadmPkiDir}/apiserver-etcd-client.crt`,
  apiserverEtcdClientKey: `${kubeadmPkiDir}/apiserver-etcd-client.key`,
} as const;

/** Writes one member's kubeadm PKI into its upper layer, signed by the lab's CA (DIR/pki/ca.pem). */
export async function writeKubeadmPki(paths: LabPaths, upperDir: string, member: KubeadmMember): Promise<void> {
  await ensureUpperDir(upperDir, kubeadmEtcdPkiDir);
  const inUpper = (path: string): string => join(upperDir, path);
  await copyFile(paths.caFile, inUpper(kubeadmPkiFiles.ca));
  await chmod(inUpper(kubeadmPkiFiles.ca), 0o644);
  await copyFile(paths.caKeyFile, inUpper(kubeadmPkiFiles.caKey));
  await chmod(inUpper(kubeadmPkiFiles.caKey), 0o600);
  const workDir = join(paths.pkiDir, 'work', member.name);
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const ca = { workDir, caFile: paths.caFile, caKeyFile: paths.caKeyFile, organization: '' };
  const sans = `subjectAltName = DNS:${member.name}, DNS:localhost, IP:${member.address}, IP:127.0.0.1, IP:0:0:0:0:0:0:0:1`;
  const serving = [...leafExtensions, 'extendedKeyUsage = serverAuth, clientAuth', sans, ''].join('\n');
  const client = [...leafExtensions, 'extendedKeyUsage = clientAuth', ''].join('\n');
  await Promise.all([
    issueCertificate({ ...ca, cert: inUpper(kubeadmPkiFiles.server), key: inUpper(kubeadmPkiFiles.serverKey), commonName: member.name, extensions: serving }),
    issueCertificate({ ...ca, cert: inUpper(kubeadmPkiFiles.peer), key: inUpper(kubeadmPkiFiles.peerKey), commonName: member.name, extensions: serving }),
    issueCertificate({
      ...ca,
      cert: inUpper(kubeadmPkiFiles.healthcheckClient),
      key: inUpper(kubeadmPkiFiles.healthcheckClientKey),
      commonName: 'kube-etcd-healthcheck-client',
      extensions: client,
    }),
    issueCertificate({
      ...ca,
      cert: inUpper(kubeadmPkiFiles.apiserverEtcdClient),
      key: inUpper(kubeadmPkiFiles.apiserverEtcdClientKey),
      commonName: 'kube-apiserver-etcd-client',
      extensions: client,
    }),
  ]);
  for (const cert of [kubeadmPkiFiles.server, kubeadmPkiFiles.peer, kubeadmPkiFiles.healthcheckClient, kubeadmPkiFiles.apiserverEtcdClient]) {
    await chmod(inUpper(cert), 0o644);
  }
}
