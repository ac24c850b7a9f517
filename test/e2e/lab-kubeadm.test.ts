// End-to-end: `lab up --topology kubeadm` looks like a kubeadm cluster: members named after their nodes,
// kubeadm's manifests and PKI, etcd as a static pod run by the stand-in kubelet (which reacts to manifests
// appearing, changing and disappearing, restarts crashed containers with back-off and leaves them running
// when it stops), a stand-in crictl in crictl's formats, and an inventory that says nothing about etcd.
// Needs root.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { labProcesses, labStatus, readLabState, type LabState } from '../../src/lab/index.js';
import { isAlive, processesInMountNamespaces } from '../../src/lab/processes.js';
import { etcdctlInLab, pickFreeLabNet, readKubeletLog, sshToLabHost, startLab, stopLab, tempLabDir, waitFor, type LabInfo } from '../helpers/lab.js';

interface CrictlContainer {
  id: string;
  podSandboxId: string;
  state: string;
  metadata: { name: string; attempt: number };
  labels: Record<string, string>;
}

async function crictlPs(lab: LabInfo, address: string, args = '-a'): Promise<CrictlContainer[]> {
  const result = await sshToLabHost(lab, address, `crictl ps ${args} -o json`);
  if (result.code !== 0) throw new Error(`crictl ps failed on ${address}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { containers: CrictlContainer[] }).containers;
}

async function running(lab: LabInfo, address: string, name: string): Promise<CrictlContainer[]> {
  return (await crictlPs(lab, address, `--state running --name ^${name}$`)).filter((c) => c.metadata.name === name);
}

describe('lab --topology kubeadm (e2e, root)', function () {
  let lab: LabInfo;
  const dir = tempLabDir();

  before(async function () {
    this.timeout(120_000);
    const net = await pickFreeLabNet(['127.0.124', '127.0.125']);
    lab = await startLab({ dir, net, members: 3, etcd: '3.5', topology: 'kubeadm' });
  });

  after(async function () {
    this.timeout(60_000);
    await stopLab(dir);
  });

  it('names hosts and etcd members after the nodes and forms one healthy cluster', async function () {
    this.timeout(30_000);
    expect(lab.hosts.map((host) => host.inventoryName)).to.deep.equal(['master-01', 'master-02', 'master-03']);
    const members = await etcdctlInLab(lab, ['member', 'list', '-w', 'json']);
    const list = (JSON.parse(members.stdout) as { members: { name: string; isLearner?: boolean }[] }).members;
    expect(list.map((member) => member.name).sort()).to.deep.equal(['master-01', 'master-02', 'master-03']);
    expect(list.some((member) => member.isLearner)).to.equal(false);
    const hostname = await sshToLabHost(lab, lab.hosts[1]?.address ?? '', 'hostname; cat /etc/hostname');
    expect(hostname.stdout.trim().split('\n')).to.deep.equal(['master-02', 'master-02']);
  });

  it('writes an inventory of node names with ansible_host and no etcd_name, etcd_topology or certificate paths', function () {
    const text = readFileSync(lab.inventoryFile, 'utf8');
    const inventory = parse(text) as {
      all: { vars: Record<string, unknown>; children: Record<string, { hosts: Record<string, { ansible_host?: string }> }> };
    };
    expect(inventory.all.children.etcd?.hosts).to.deep.equal({
      'master-01': { ansible_host: lab.hosts[0]?.address },
      'master-02': { ansible_host: lab.hosts[1]?.address },
      'master-03': { ansible_host: lab.hosts[2]?.address },
    });
    expect(text).not.to.match(/etcd_name|etcd_topology|etcd_cert_file|etcd_ca_file|etcd_cluster_token/);
  });

  it("lays out kubeadm's manifests, with the join shape on secondary members, and kubeadm's PKI", async function () {
    this.timeout(30_000);
    const script =
      'ls /etc/kubernetes/manifests; ls /etc/kubernetes/pki/etcd; ls /etc/kubernetes/pki | grep apiserver-etcd-client; stat -c %a /etc/kubernetes/pki/etcd/server.key';
    const listing = await sshToLabHost(lab, lab.hosts[2]?.address ?? '', script);
    expect(listing.stdout.trim().split('\n')).to.deep.equal([
      'etcd.yaml',
      'kube-apiserver.yaml',
      'kube-controller-manager.yaml',
      'kube-scheduler.yaml',
      'ca.crt',
      'ca.key',
      'healthcheck-client.crt',
      'healthcheck-client.key',
      'peer.crt',
      'peer.key',
      'server.crt',
      'server.key',
      'apiserver-etcd-client.crt',
      'apiserver-etcd-client.key',
      '600',
    ]);
    const manifests = lab.hosts.map((host) => {
      const pod = parse(readFileSync(join(host.upperDir, 'etc/kubernetes/manifests/etcd.yaml'), 'utf8')) as {
        spec: { containers: { command: string[] }[]; volumes: { name: string; hostPath: { path: string } }[] };
      };
      return { command: pod.spec.containers[0]?.command ?? [], volumes: pod.spec.volumes };
    });
    const flag = (command: string[], name: string): string | undefined => command.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
    const [first, second, third] = manifests;
    expect(first?.command[0]).to.equal('etcd');
    expect(flag(first?.command ?? [], 'name')).to.equal('master-01');
    expect(flag(first?.command ?? [], 'initial-cluster-state')).to.equal(undefined);
    expect(flag(first?.command ?? [], 'initial-cluster')).to.equal(`master-01=https://${lab.hosts[0]?.address}:2380`);
    expect(flag(second?.command ?? [], 'initial-cluster-state')).to.equal('existing');
    expect(flag(second?.command ?? [], 'initial-cluster')?.split(',')).to.have.length(2);
    expect(flag(third?.command ?? [], 'initial-cluster')?.split(',')).to.have.length(3);
    expect(flag(third?.command ?? [], 'cert-file')).to.equal('/etc/kubernetes/pki/etcd/server.crt');
    expect(first?.volumes).to.deep.include({ hostPath: { path: '/var/lib/etcd', type: 'DirectoryOrCreate' }, name: 'etcd-data' });
    expect(first?.volumes).to.deep.include({ hostPath: { path: '/etc/kubernetes/pki/etcd', type: 'DirectoryOrCreate' }, name: 'etcd-certs' });
  });

  it('serves etcd with the member certificates kubeadm names (healthcheck-client from the member itself)', async function () {
    this.timeout(30_000);
    const host = lab.hosts[0]?.address ?? '';
    const pki = '/etc/kubernetes/pki/etcd';
    const result = await sshToLabHost(
      lab,
      host,
      `etcdctl --endpoints=https://${host}:2379 --cacert=${pki}/ca.crt --cert=${pki}/healthcheck-client.crt --key=${pki}/healthcheck-client.key get /registry/namespaces/default --keys-only`,
    );
    expect(result.stdout.trim(), result.stderr).to.equal('/registry/namespaces/default');
  });

  it('lists the static pods with crictl, in crictl table and JSON formats, stable ids per container', async function () {
    this.timeout(30_000);
    const host = lab.hosts[0]?.address ?? '';
    const table = await sshToLabHost(lab, host, 'crictl ps');
    const [header, ...rows] = table.stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).to.deep.equal(['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD', 'NAMESPACE']);
    expect(rows.map((row) => row.split(/\s{2,}/)[4]).sort()).to.deep.equal(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    const json = await crictlPs(lab, host);
    const etcd = json.find((c) => c.metadata.name === 'etcd');
    expect(etcd?.state).to.equal('CONTAINER_RUNNING');
    expect(etcd?.id).to.match(/^[0-9a-f]{64}$/);
    expect(etcd?.labels['io.kubernetes.pod.name']).to.equal('etcd-master-01');
    expect(rows.some((row) => row.startsWith(etcd?.id.slice(0, 13) ?? '-'))).to.equal(true);
    const quiet = await sshToLabHost(lab, host, 'crictl ps -q --name etcd');
    expect(quiet.stdout.trim()).to.equal(etcd?.id);
    const inspect = await sshToLabHost(lab, host, `crictl inspect ${etcd?.id.slice(0, 12) ?? ''}`);
    const status = JSON.parse(inspect.stdout) as { status: { id: string; state: string }; info: { pid: number } };
    expect(status.status).to.include({ id: etcd?.id, state: 'CONTAINER_RUNNING' });
    const comm = await sshToLabHost(lab, host, `cat /proc/${status.info.pid}/comm`);
    expect(comm.stdout.trim()).to.equal('etcd');
  });

  it('stops a static pod within seconds of its manifest moving away and starts it again when it is back', async function () {
    this.timeout(60_000);
    const host = lab.hosts[2]?.address ?? '';
    const [before] = await running(lab, host, 'kube-scheduler');
    const inspect = await sshToLabHost(lab, host, `crictl inspect ${before?.id ?? ''}`);
    const pid = (JSON.parse(inspect.stdout) as { info: { pid: number } }).info.pid;
    await sshToLabHost(lab, host, 'mv /etc/kubernetes/manifests/kube-scheduler.yaml /root/');
    const movedAt = Date.now();
    expect(await waitFor(async () => (await running(lab, host, 'kube-scheduler')).length === 0, 10_000)).to.equal(true);
    expect(await isAlive(pid), 'the old process').to.equal(false);
    const stopSeconds = (Date.now() - movedAt) / 1000;
    expect(stopSeconds).to.be.lessThan(5);
    await sshToLabHost(lab, host, 'mv /root/kube-scheduler.yaml /etc/kubernetes/manifests/');
    expect(await waitFor(async () => (await running(lab, host, 'kube-scheduler')).length === 1, 10_000)).to.equal(true);
    const [after] = await running(lab, host, 'kube-scheduler');
    expect(after?.id).not.to.equal(before?.id);
    const events = (await readKubeletLog(lab, host)).map((event) => event.event);
    expect(events).to.include.members(['manifest-removed', 'container-stopping', 'container-stopped']);
  });

  it('restarts a crashing etcd with growing back-off (a bad flag gives a crash loop), and recovers when fixed', async function () {
    this.timeout(90_000);
    const host = lab.hosts[2]?.address ?? '';
    const manifest = '/etc/kubernetes/manifests/etcd.yaml';
    await sshToLabHost(
      lab,
      host,
      `cp ${manifest} /root/etcd.yaml && sed -i 's|^    - --snapshot-count=10000$|&\\n    - --no-such-flag=1|' ${manifest}`,
    );
    const attempts = async (): Promise<number> => Math.max(-1, ...(await crictlPs(lab, host, '--name ^etcd$ -a')).map((c) => c.metadata.attempt));
    expect(await waitFor(async () => (await attempts()) >= 2, 40_000), 'attempt 2 reached').to.equal(true);
    const backOff = (await readKubeletLog(lab, host)).filter((event) => event.event === 'back-off' && event.fields.container === 'etcd');
    expect(backOff.map((event) => event.fields['restart-in'])).to.include('10s');
    expect((await running(lab, host, 'etcd')).length).to.equal(0);
    await sshToLabHost(lab, host, `cp /root/etcd.yaml ${manifest}`);
    expect(await waitFor(async () => (await etcdctlInLab(lab, ['endpoint', 'health'], [host])).code === 0, 30_000)).to.equal(true);
  });

  it('leaves the static pods running when kubelet stops, and adopts them when it starts again', async function () {
    this.timeout(30_000);
    const host = lab.hosts[1]?.address ?? '';
    const before = (await crictlPs(lab, host, '')).map((c) => c.id).sort();
    const stopped = await sshToLabHost(lab, host, 'systemctl stop kubelet && systemctl is-active kubelet; crictl ps -q | wc -l');
    expect(stopped.stdout.trim().split('\n')).to.deep.equal(['inactive', '4']);
    await sshToLabHost(lab, host, 'systemctl start kubelet');
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 2_500));
    expect((await crictlPs(lab, host, '')).map((c) => c.id).sort()).to.deep.equal(before);
  });

  it('lab status shows kubelet and the static pods of each member', async function () {
    this.timeout(30_000);
    const report = await labStatus({ dir: lab.dir });
    for (const host of report.hosts) {
      expect(host.services, host.address).to.deep.equal({ kubelet: 'active' });
      expect(host.containers?.map((c) => `${c.name}:${c.state}`)).to.deep.equal([
        'etcd:CONTAINER_RUNNING',
        'kube-apiserver:CONTAINER_RUNNING',
        'kube-controller-manager:CONTAINER_RUNNING',
        'kube-scheduler:CONTAINER_RUNNING',
      ]);
      expect(host.etcd.healthy).to.equal(true);
    }
  });

  it('lab down stops every process, those kubelet started included, and leaves nothing', async function () {
    this.timeout(60_000);
    const state = (await readLabState(lab.stateFile)) as LabState;
    const pids = await labProcesses(state);
    const containerPids = await Promise.all(
      lab.hosts.map(async (host) => {
        const [etcd] = await running(lab, host.address, 'etcd');
        const inspect = await sshToLabHost(lab, host.address, `crictl inspect ${etcd?.id ?? ''}`);
        return (JSON.parse(inspect.stdout) as { info: { pid: number } }).info.pid;
      }),
    );
    expect(pids).to.include.members(containerPids);
    const report = await stopLab(dir);
    expect(report.found).to.equal(true);
    for (const pid of [...pids, ...containerPids]) expect(await isAlive(pid), `pid ${pid}`).to.equal(false);
    expect((await processesInMountNamespaces(new Set(state.hosts.map((host) => host.mountNamespace ?? '')))).size).to.equal(0);
  });
});
