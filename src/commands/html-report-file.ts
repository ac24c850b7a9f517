// The HTML report written at the end of a restore or a recovery (the same file `orchestrate report` writes).
// A report that cannot be written never changes the outcome: it is a warning.
import type { Inventory } from '../config/types.js';
import type { RecoverySummary } from '../report/recovery-section.js';

export async function writeRunReport(inventory: Inventory, run: { journalFile?: string; recovery?: RecoverySummary }): Promise<string | undefined> {
  try {
    const { writeReport } = await import('../report/collect-report.js');
    const { etcdAccess } = await import('../config/etcd-vars.js');
    // The report asks the members from here; where only the members hold client certificates, it leaves the status out.
    const status = etcdAccess(inventory) !== 'ssh';
    return (await writeReport({ inventory, ...run, status, statusTimeoutMs: 2000 })).path;
  } catch (error) {
    process.stderr.write(`warning: the HTML report was not written: ${error instanceof Error ? error.message : String(error)}\n`);
    return undefined;
  }
}
