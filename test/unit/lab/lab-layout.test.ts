// Pure parts of the lab: host layout, kubeadm manifests, inventory and ssh_config, option parsing.
import { expect } from 'chai';
import { parse } from 'yaml';
import { etcdManifest } from '../../../src/lab/kubeadm-manifests.js';
import { renderLabInventory, renderLabSshConfig } from '../../../src/lab/inventory-writer.js';
import { parseNodeCount, planLabHosts } from '../../../src/lab/lab-layout.js';
import { parseLabEtcdVersion } from '../../../src/lab/etcd-versions.js';
import type { LabState } from '../../../src/lab/lab-state.js';
import { labPaths } from '../../../src/lab/paths.js';

function state(topology: 'kubeasz' | 'kubeadm', bastion: boolean): LabState {
  const hosts = planLabHosts({ net: '127.0.100', members: 2, nodes: 1, topology, bastion }).map((host) => ({
    ...host,
    upperDir: '',
    workDir: '',
    mergedDir: '',
    sshdLog: '',
  }));
  return { version: 1, phase: 'up', dir: '/lab', net: '127.0.100', topology, createdAt: '', userKnownHostsFile: '', knownHostsTag: '', createdDir: false, hosts };
}

describe('lab layout', function () {
  it('names kubeasz hosts by address and kubeadm hosts like nodes; nodes follow members, the bastion is .254', function () {
    expect(planLabHosts({ net: '127.0.9', members: 2, nodes: 1, topology: 'kubeasz', bastion: false })).to.deep.equal([
      { address: '127.0.9.1', name: 'etcd-127.0.9.1', inventoryName: '127.0.9.1', role: 'member' },
      { address: '127.0.9.2', name: 'etcd-127.0.9.2', inventoryName: '127.0.9.2', role: 'member' },
      { address: '127.0.9.3', name: '127.0.9.3', inventoryName: '127.0.9.3', role: 'node' },
    ]);
    const kubeadm = planLabHosts({ net: '127.0.9', members: 1, nodes: 120, topology: 'kubeadm', bastion: true });
    expect(kubeadm[0]).to.deep.equal({ address: '127.0.9.1', name: 'master-01', inventoryName: 'master-01', role: 'member' });
    expect(kubeadm[1]?.inventoryName).to.equal('node-001');
    expect(kubeadm.at(-1)).to.deep.equal({ address: '127.0.9.254', name: 'bastion', inventoryName: 'bastion', role: 'bastion' });
  });

  it('refuses bad --nodes and --etcd values', function () {
    for (const bad of ['-1', '201', '1.5', 'x']) expect(() => parseNodeCount(bad), bad).to.throw(/--nodes must be/);
    expect(() => parseLabEtcdVersion('3.6')).to.throw(/--etcd must be one of 3.4, 3.5/);
    expect(parseLabEtcdVersion('3.5')).to.equal('3.5');
  });
});

describe('kubeadm etcd manifest', function () {
  const members = [
    { name: 'master-01', address: '127.0.100.1' },
    { name: 'master-02', address: '127.0.100.2' },
  ];

  it('has kubeadm init shape on the first member and join shape after, flags sorted', function () {
    const init = parse(etcdManifest({ etcdVersion: '3.5', self: members[0]!, initialCluster: members.slice(0, 1) })) as { spec: { containers: { command: string[] }[] } };
    const join = parse(etcdManifest({ etcdVersion: '3.5', self: members[1]!, initialCluster: members })) as { spec: { containers: { command: string[] }[] } };
    const initCommand = init.spec.containers[0]!.command;
    const joinCommand = join.spec.containers[0]!.command;
    expect(initCommand[0]).to.equal('etcd');
    expect(initCommand.slice(1)).to.deep.equal([...initCommand.slice(1)].sort());
    expect(initCommand).to.include('--initial-cluster=master-01=https://127.0.100.1:2380');
    expect(initCommand.some((flag) => flag.startsWith('--initial-cluster-state'))).to.equal(false);
    expect(joinCommand).to.include.members(['--initial-cluster-state=existing', '--initial-cluster=master-01=https://127.0.100.1:2380,master-02=https://127.0.100.2:2380', '--name=master-02']);
    expect(joinCommand).to.include('--listen-client-urls=https://127.0.100.2:2379');
  });

  it('leaves out the 3.5-only flags on 3.4', function () {
    const text = etcdManifest({ etcdVersion: '3.4', self: members[0]!, initialCluster: members.slice(0, 1) });
    expect(text).not.to.include('experimental');
    expect(text).to.include('etcd:3.4.23-0');
  });
});

describe('lab inventory and ssh_config', function () {
  it('kubeadm: node names with ansible_host, no etcd variables; bastion: ProxyJump args', function () {
    const text = renderLabInventory(labPaths('/lab'), state('kubeadm', true));
    const inventory = parse(text) as { all: { vars: Record<string, string>; children: Record<string, { hosts: Record<string, unknown> }> } };
    expect(inventory.all.vars.ansible_ssh_common_args).to.equal('-o ProxyJump=root@127.0.100.254');
    expect(Object.keys(inventory.all.vars).filter((key) => key.startsWith('etcd_'))).to.deep.equal([]);
    expect(inventory.all.children.etcd?.hosts).to.deep.equal({ 'master-01': { ansible_host: '127.0.100.1' }, 'master-02': { ansible_host: '127.0.100.2' } });
    expect(Object.keys(inventory.all.children.kube_node?.hosts ?? {})).to.deep.equal(['master-01', 'master-02', 'node-01']);
    expect(text).not.to.include('bastion:');
  });

  it('kubeasz: addresses, the lab certificate paths and token', function () {
    const inventory = parse(renderLabInventory(labPaths('/lab'), state('kubeasz', false))) as { all: { vars: Record<string, string> } };
    expect(inventory.all.vars).to.include({ etcd_ca_file: '/lab/pki/ca.pem', etcd_cluster_token: 'etcd-cluster-0' });
    expect(inventory.all.vars.ansible_ssh_common_args).to.equal(undefined);
  });

  it('writes one Host entry per host, behind ProxyJump bastion when there is one', function () {
    const config = renderLabSshConfig(labPaths('/lab'), state('kubeadm', true));
    expect(config.match(/^Host /gm)).to.have.length(4);
    expect(config).to.include('Host node-01\n  HostName 127.0.100.3\n  User root\n  IdentityFile /lab/ssh/id_ed25519\n  IdentitiesOnly yes\n  ProxyJump bastion\n  UserKnownHostsFile /lab/known_hosts\n');
    expect(renderLabSshConfig(labPaths('/lab'), state('kubeasz', false))).not.to.include('ProxyJump');
  });
});
