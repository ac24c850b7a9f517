// A kubeadm-style host: its node name as hostname, kubelet as the one systemd unit (the lab's stand-in,
// src/lab/assets/kubelet.sh) running the static pods of /etc/kubernetes/manifests, a stand-in crictl, and on
// control-plane hosts kubeadm's manifests and PKI. The "images" are folders of programs the stand-in
// runtime puts first in a container's PATH: etcd's holds the lab's etcd binaries, the others stand-ins.
import { readFile } from 'node:fs/promises';
import { packagePath } from '../package-root.js';
import { etcdProgramNames } from './etcd-versions.js';
import type { HostFilesInput } from './host-files.js';
import { kubeadmManifests, manifestDir, staticPodNames } from './kubeadm-manifests.js';
import { writeKubeadmPki } from './kubeadm-pki.js';
import { kubeStandInProgram } from './units.js';
import { ensureUpperDir, writeUpperFile, writeUpperSymlink } from './upper-files.js';

export const kubeletConfigPath = '/var/lib/kubelet/config.yaml';
export const kubeletLogPath = '/var/log/lab-kubelet.log';
export const criStateDir = '/var/lib/lab-cri';
const imagesDir = `${criStateDir}/images`;

export function kubeletUnit(): string {
  const yamlModule = packagePath('node_modules', 'yaml', 'dist', 'index.js');
  return `[Unit]
Description=kubelet: The Kubernetes Node Agent (orchestrate lab stand-in, a test fixture)
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
Environment="LAB_CRI_NODE=${process.execPath}" "LAB_CRI_YAML=${yamlModule}"
ExecStart=/usr/bin/kubelet --config=${kubeletConfigPath}
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`;
}

export function kubeletConfig(): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: unix:///var/run/containerd/containerd.sock
staticPodPath: ${manifestDir}
`;
}

async function hostsFile(input: HostFilesInput): Promise<string> {
  const base = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1 localhost\n');
  const lines = input.all.map((other) => `${other.address} ${other.inventoryName}`);
  return `${base.trimEnd()}\n# orchestrate lab hosts\n${lines.join('\n')}\n`;
}

export async function writeKubeadmHostFiles(input: HostFilesInput): Promise<void> {
  const { host, planned, assets } = input;
  const upper = host.upperDir;
  await writeUpperFile(upper, '/etc/hostname', `${planned.inventoryName}\n`, { mode: 0o644 });
  await writeUpperFile(upper, '/etc/hosts', await hostsFile(input), { mode: 0o644 });
  await writeUpperFile(upper, '/usr/bin/kubelet', assets.kubelet, { mode: 0o755 });
  await writeUpperFile(upper, '/usr/lib/lab-cri/lab-cri-shim', assets.shim, { mode: 0o755 });
  await writeUpperFile(upper, '/usr/lib/lab-cri/parse-manifests.mjs', assets.parser, { mode: 0o644 });
  // The stand-in crictl is an ES module: /usr/bin/crictl runs it with this machine's node.
  await writeUpperFile(upper, '/usr/lib/lab-cri/crictl.mjs', assets.crictl, { mode: 0o644 });
  await writeUpperFile(upper, '/usr/bin/crictl', `#!/bin/sh\n# orchestrate lab TEST FIXTURE: stand-in crictl\nexec ${process.execPath} /usr/lib/lab-cri/crictl.mjs "$@"\n`, { mode: 0o755 });
  await writeUpperFile(upper, '/etc/crictl.yaml', 'runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: unix:///run/containerd/containerd.sock\ntimeout: 10\n', {
    mode: 0o644,
  });
  await writeUpperFile(upper, kubeletConfigPath, kubeletConfig(), { mode: 0o644 });
  await writeUpperFile(upper, '/etc/systemd/system/kubelet.service', kubeletUnit(), { mode: 0o644 });
  await ensureUpperDir(upper, manifestDir);
  if (planned.role !== 'member') return;

  const members = input.all.filter((other) => other.role === 'member');
  const upTo = members.slice(0, members.findIndex((other) => other.address === host.address) + 1);
  const self = { name: planned.name, address: host.address };
  for (const [file, text] of kubeadmManifests({ etcdVersion: input.etcd.version, self, initialCluster: upTo.map(({ name, address }) => ({ name, address })) })) {
    await writeUpperFile(upper, `${manifestDir}/${file}`, text, { mode: 0o600 });
  }
  await writeKubeadmPki(input.paths, upper, self);
  for (const name of etcdProgramNames) {
    const binary = name === 'etcd' ? input.etcd.etcd : name === 'etcdctl' ? input.etcd.etcdctl : input.etcd.etcdutl;
    if (binary) await writeUpperSymlink(upper, `${imagesDir}/etcd/bin/${name}`, binary);
  }
  for (const component of staticPodNames.filter((name) => name !== 'etcd')) {
    await writeUpperFile(upper, `${imagesDir}/${component}/bin/${component}`, kubeStandInProgram(component), { mode: 0o755 });
  }
}
