// The HTML report written at the end of a restore or a recovery (the same file `orchestrate report` writes).
// A report that cannot be written never changes the outcome: it is a warning.
import type { Inventory } from '../config/types.js';
import type { ConnectionOptions } from '../engine/connections.js';
import type { RecoverySummary } from '../report/recovery-section.js';

/** `connection`: the run's own SSH options, for asking the members over SSH (etcd_access: ssh). */
export async function writeRunReport(
  inventory: Inventory,
  run: { journalFile?: string; recovery?: RecoverySummary },
  connection: ConnectionOptions,
): Promise<string | undefined> {
  try {
    const { writeReport } = await import('../report/collect-report.js');
    const { memberObserver } = await import('./member-observer.js');
    const observer = await memberObserver(inventory, connection);
    try {
      return (await writeReport({ inventory, ...run, statusTimeoutMs: 2000, ...(observer.observe ? { observe: observer.observe } : {}) })).path;
    } finally {
      await observer.close();
    }
  } catch (error) {
    process.stderr.write(`warning: the HTML report was not written: ${error instanceof Error ? error.message : String(error)}\n`);
    return undefined;
  }
}
