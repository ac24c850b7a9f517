import { expect } from 'chai';
import { serviceModule } from '../../../src/modules/service.js';

type ServiceArgs = Parameters<typeof serviceModule.plan>[1];
import { drive, dryRun, exec, scripted } from './drive.js';

const active = scripted([
  [/is-active/, exec(0, 'active\n')],
  [/is-enabled/, exec(0, 'enabled\n')],
]);
const inactive = scripted([
  [/is-active/, exec(3, 'inactive\n')],
  [/is-enabled/, exec(1, 'disabled\n')],
]);

describe('service module', () => {
  const table: { name: string; args: ServiceArgs; facts: typeof active; lines: string[]; changed: boolean }[] = [
    { name: 'started, already active', args: { name: 'etcd', state: 'started' }, facts: active, lines: ['systemctl is-active etcd'], changed: false },
    {
      name: 'started, inactive',
      args: { name: 'etcd', state: 'started' },
      facts: inactive,
      lines: ['systemctl is-active etcd', 'systemctl start etcd'],
      changed: true,
    },
    {
      name: 'stopped, active',
      args: { name: 'etcd', state: 'stopped' },
      facts: active,
      lines: ['systemctl is-active etcd', 'systemctl stop etcd'],
      changed: true,
    },
    {
      name: 'stopped, already inactive',
      args: { name: 'etcd', state: 'stopped' },
      facts: inactive,
      lines: ['systemctl is-active etcd'],
      changed: false,
    },
    {
      name: 'restarted always restarts',
      args: { name: 'etcd', state: 'restarted' },
      facts: active,
      lines: ['systemctl is-active etcd', 'systemctl restart etcd'],
      changed: true,
    },
    {
      name: 'daemon_reload, enabled=yes on a disabled unit, started',
      args: { name: 'kube-apiserver', state: 'started', enabled: 'yes', daemon_reload: true },
      facts: inactive,
      lines: [
        'systemctl daemon-reload',
        'systemctl is-enabled kube-apiserver',
        'systemctl enable kube-apiserver',
        'systemctl is-active kube-apiserver',
        'systemctl start kube-apiserver',
      ],
      changed: true,
    },
    {
      name: 'enabled=no on an enabled unit',
      args: { name: 'etcd', enabled: 'no' },
      facts: active,
      lines: ['systemctl is-enabled etcd', 'systemctl disable etcd'],
      changed: true,
    },
    {
      name: 'a hostile unit name stays one word',
      args: { name: 'etcd; reboot', state: 'stopped' },
      facts: active,
      lines: ["systemctl is-active 'etcd; reboot'", "systemctl stop 'etcd; reboot'"],
      changed: true,
    },
  ];
  for (const row of table) {
    it(row.name, async () => {
      const { lines, outcome } = await drive(serviceModule, row.args, row.facts);
      expect(lines).to.deep.equal(row.lines);
      expect(outcome.changed).to.equal(row.changed);
      expect(outcome.failed ?? false).to.equal(false);
    });
  }

  it('marks the probes read-only and the actions not', async () => {
    const { steps } = await drive(serviceModule, { name: 'etcd', state: 'started' }, inactive);
    expect(steps.map((s) => (s.kind === 'exec' ? s.readOnly === true : null))).to.deep.equal([true, false]);
  });

  it('under dry-run, started on an active unit is no change', async () => {
    const { lines, outcome } = await drive(serviceModule, { name: 'etcd', state: 'started' }, dryRun(active));
    expect(lines).to.deep.equal(['systemctl is-active etcd']);
    expect(outcome.changed).to.equal(false);
  });

  it('a failing systemctl fails the task with its stderr', async () => {
    const failing = scripted([
      [/is-active/, exec(3)],
      [/start/, exec(1, '', 'Job for etcd.service failed\n')],
    ]);
    const { outcome } = await drive(serviceModule, { name: 'etcd', state: 'started' }, failing);
    expect(outcome.failed).to.equal(true);
    expect(outcome.msg).to.contain('Job for etcd.service failed');
  });
});
