// The 5-member recover matrix (`npm run test:recover-matrix`; `npm run test:matrix` runs it too; not part
// of `npm test`, whose test/e2e/recover*.test.ts cover 3 members). On 5 members, etcd 3.4 and 3.5, one lab
// each: every etcd killed with its data intact (start as is, no key lost), a majority of 3 damaged (rebuilt
// from the freshest intact member, every key committed more than a second before the cut back, where the
// newest snapshot would lose them), and member replace of a down member. Needs root; about 4 minutes a version.
import { expect } from 'chai';
import { tempLabDir } from '../helpers/lab.js';
import {
  expectRecoveryReport,
  expectWhole,
  flipWal,
  killEtcd,
  labForCases,
  missingKeys,
  orchestrate,
  putKeys,
  recover,
  reportOf,
  tail,
} from '../helpers/recover.js';

const versions = [
  { etcd: '3.4', net: '127.0.146' },
  { etcd: '3.5', net: '127.0.147' },
] as const;

for (const { etcd, net } of versions) {
  describe(`recover on 5 members, etcd ${etcd} (${net}.x)`, function () {
    this.timeout(300_000);
    const theLab = labForCases({ dir: tempLabDir(), net, members: 5, etcd }, async (lab) => {
      const backup = await orchestrate(['backup', lab.inventoryFile], { timeoutMs: 60_000 });
      expect(backup.code, tail(backup)).to.equal(0);
    });
    const host = (i: number) => theLab().hosts[i]!;

    it('every etcd killed -9, all data intact: recover starts the five as they are, no key lost', async () => {
      const lab = theLab();
      const keys = await putKeys(lab, `/after-backup/cut-${etcd}/`, 5);
      await killEtcd(lab);
      const result = await recover(lab);
      expect(result.code, tail(result)).to.equal(0);
      const report = reportOf(result);
      expect(report.choice?.kind).to.equal('start');
      expect(report.choice?.start).to.have.length(5);
      expect(report.start?.verdict?.ok).to.equal(true);
      expect(await missingKeys(lab, keys)).to.deep.equal([]);
      await expectRecoveryReport(report, 'start as is, completed');
      await expectWhole(lab);
    });

    it('3 of 5 WALs damaged: rebuilt from the freshest intact member, every key committed a second before the cut is back', async () => {
      const lab = theLab();
      const keys = await putKeys(lab, `/after-backup/majority-${etcd}/`, 5);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await killEtcd(lab);
      for (const i of [2, 3, 4]) await flipWal(lab, host(i), keys[2] ?? '');
      const result = await recover(lab);
      expect(result.code, tail(result)).to.equal(0);
      const report = reportOf(result);
      expect(report.diagnosis?.members.filter((m) => m.state === 'damaged').map((m) => m.host)).to.deep.equal([2, 3, 4].map((i) => host(i).address));
      expect(report.choice?.kind).to.equal('rebuild');
      expect([host(0).address, host(1).address]).to.include(report.choice?.source);
      expect(report.options?.find((o) => o.path === 'rebuild')?.lostRevisions).to.equal(0);
      // The snapshot was taken before every key of this file: it would lose them all.
      expect(report.options?.find((o) => o.path === 'snapshot')?.lostRevisions).to.be.at.least(keys.length);
      expect(report.restore?.verdict?.ok).to.equal(true);
      expect(await missingKeys(lab, keys)).to.deep.equal([]);
      await expectWhole(lab);
    });

    it('member replace of a down member on 5: a new member id, keys kept', async () => {
      const lab = theLab();
      const keys = await putKeys(lab, `/after-backup/replace-${etcd}/`, 3);
      await killEtcd(lab, [host(3)]);
      const result = await orchestrate(['member', 'replace', lab.inventoryFile, host(3).address, '--yes', '--json']);
      expect(result.code, tail(result)).to.equal(0);
      expect(reportOf(result)).to.deep.include({ status: 'completed' });
      expect(await missingKeys(lab, keys)).to.deep.equal([]);
      await expectWhole(lab);
    });
  });
}
