// kubeasz-shaped playbooks (test/fixtures/kubeasz-playbooks, our own files of kubeasz 3.7.0's shapes) run
// against a kubeasz cluster folder with fake hosts: the commands each host receives, exactly.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseExtraVars, runPlaybook } from '../../../src/engine/index.js';
import { fakeNetwork, RecordingReporter, type Script } from './fakes.js';

const fixtures = path.resolve('test/fixtures/kubeasz-playbooks');
const members = ['10.70.0.1', '10.70.0.2', '10.70.0.3'];

/** /tmp/x/clusters/k8s-01 with an INI hosts file (a range, [all:vars]) and a config.yml, as kubeasz lays it out. */
function clusterFolder(): { base: string; folder: string } {
  const base = mkdtempSync(path.join(tmpdir(), 'orchestrate-kubeasz-'));
  const folder = path.join(base, 'clusters', 'k8s-01');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, 'hosts'),
    `[etcd]\n10.70.0.[1:3]\n\n[kube_master]\n10.70.0.1\n\n[kube_node]\n10.70.0.4\n\n[all:vars]\nbin_dir="/opt/kube/bin"\nbase_dir="${base}"\ncluster_dir="{{ base_dir }}/clusters/k8s-01"\n`,
  );
  writeFileSync(path.join(folder, 'config.yml'), 'ETCD_DATA_DIR: "/var/lib/etcd"\nETCD_WAL_DIR: ""\n');
  mkdirSync(path.join(folder, 'backup'));
  writeFileSync(path.join(folder, 'backup', 'snapshot.db'), ''); // empty: the fake transport's upload hashes nothing
  return { base, folder };
}

describe('kubeasz-shaped playbooks, run unchanged with -i <cluster folder> -e @config.yml', () => {
  let cluster: { base: string; folder: string };
  before(() => {
    cluster = clusterFolder();
  });
  after(() => rmSync(cluster.base, { recursive: true, force: true }));

  async function run(playbook: string, script: Script) {
    const network = fakeNetwork(script);
    const reporter = new RecordingReporter();
    const summary = await runPlaybook({
      inventory: cluster.folder,
      playbook: path.join(fixtures, 'playbooks', playbook),
      extraVars: await parseExtraVars([`@${path.join(cluster.folder, 'config.yml')}`]),
      rolesPath: [path.join(fixtures, 'roles')],
      reporter,
      openTransports: network.openTransports,
    });
    return { summary, network, reporter };
  }

  it('94.backup.yml: set_fact and debug free-form, a folded command without its lone backslashes, the healthy member used', async () => {
    const { summary, network } = await run('94.backup.yml', (command) => {
      if (command.includes('endpoint health')) return { stdout: 'https://10.70.0.2:2379 is healthy: successfully committed proposal: took = 2ms\n' };
      if (command.includes('grep "is healthy"')) return { stdout: '10.70.0.2\n' };
      if (command.startsWith('date')) return { stdout: '202612050101\n' };
      return undefined;
    });
    expect(summary.exitCode).to.equal(0);
    const ssl = `${cluster.folder}/ssl`;
    expect(network.commandsOn('localhost')).to.deep.equal([
      // NODE_IPS's words are the loop's words (each one quoted if it needed it); the lone `\` are gone.
      `for ip in 10.70.0.1 10.70.0.2 10.70.0.3;do ETCDCTL_API=3 ${cluster.base}/bin/etcdctl --endpoints=https://"$ip":2379 --cacert=${ssl}/ca.pem --cert=${ssl}/etcd.pem --key=${ssl}/etcd-key.pem endpoint health; done`,
      // Registered output inside "...": the quotes close around the literal value and reopen.
      `echo -e ""'https://10.70.0.2:2379 is healthy: successfully committed proposal: took = 2ms'"" ""''"" |grep "is healthy"|sed -n "1p"|cut -d: -f2|cut -d/ -f3`,
      "date +'%Y%m%d%H%M'",
      `mkdir -p ${cluster.folder}/backup && cd ${cluster.folder}/backup && ETCDCTL_API=3 ${cluster.base}/bin/etcdctl --endpoints=https://10.70.0.2:2379 --cacert=${ssl}/ca.pem --cert=${ssl}/etcd.pem --key=${ssl}/etcd-key.pem snapshot save snapshot_202612050101.db`,
      `cd ${cluster.folder}/backup/ && /bin/cp -f snapshot_202612050101.db snapshot.db`,
    ]);
  });

  it('95.restore.yml: the role found through roles_path, its defaults (.rstrip), tab-led continuation lines, copy from the deploy host, until', async () => {
    // Units are active until stopped; `systemctl is-active` says so.
    const stopped = new Set<string>();
    const { summary, network, reporter } = await run('95.restore.yml', (command, host) => {
      const [, verb, unit] = /^systemctl (\S+) (\S+)/.exec(command) ?? [];
      if (verb === 'stop') stopped.add(`${host} ${unit}`);
      if (verb === 'start' || verb === 'restart') stopped.delete(`${host} ${unit?.replace(/\.service$/, '')}`);
      if (verb === 'is-active')
        return stopped.has(`${host} ${unit?.replace(/\.service$/, '')}`) ? { stdout: 'inactive\n', exitCode: 3 } : { stdout: 'active\n' };
      if (command.startsWith('systemctl is-enabled')) return { exitCode: 1 };
      if (command.startsWith('stat ')) return { exitCode: 1, stderr: 'stat: cannot statx: No such file or directory\n' };
      return undefined;
    });
    const failed = reporter.of('host_result').filter((e) => e.result.status === 'failed');
    expect(failed.map((e) => `${e.task}: ${JSON.stringify(e.result.display)}`)).to.deep.equal([]);
    expect(summary.exitCode).to.equal(0);
    const initialCluster = members.map((m) => `etcd-${m}=https://${m}:2380`).join(',');
    const member = network.log.filter((e) => e.host === '10.70.0.2').map((e) => `${e.kind} ${e.text}`);
    const restore = member.find((line) => line.includes('snapshot restore'));
    expect(restore).to.equal(
      `exec cd /etcd_backup && ETCDCTL_API=3 /opt/kube/bin/etcdutl snapshot restore snapshot.db --name etcd-10.70.0.2 --initial-cluster '${initialCluster}' --initial-cluster-token etcd-cluster-0 --initial-advertise-peer-urls https://10.70.0.2:2380`,
    );
    expect(member.filter((line) => line.startsWith('upload'))).to.have.length(1);
    expect(member.indexOf(restore as string)).to.be.greaterThan(member.findIndex((line) => line.startsWith('upload')));
    expect(member).to.include('exec cp -rf /etcd_backup/etcd-10.70.0.2.etcd/member /var/lib/etcd/');
    // until: '"active" in etcd_status.stdout' holds at once (its retries wait 8 s; the lab test sees them).
    expect(member.filter((line) => line === 'exec systemctl is-active etcd.service')).to.have.length(1);
    // The worker only stops and starts its own services, enabling them (enabled=yes).
    expect(network.commandsOn('10.70.0.4').filter((c) => !c.startsWith('systemctl is-'))).to.deep.equal([
      'systemctl stop kubelet',
      'systemctl stop kube-proxy',
      'systemctl enable kubelet',
      'systemctl start kubelet',
      'systemctl enable kube-proxy',
      'systemctl start kube-proxy',
    ]);
  });
});
