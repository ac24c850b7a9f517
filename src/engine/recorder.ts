// What both strategies keep of a run: per-host stats (Ansible's recap), every result in arrival order, the
// dry-run's plan per host, and which hosts have left the run (failed, not ignored, or unreachable).
import type { ModuleRegistry } from '../modules/registry.js';
import type { HostPlan, HostStats, HostTaskResult, Reporter, RunSummary, TaskRef } from './types.js';

export class RunRecorder {
  readonly stats = new Map<string, HostStats>();
  readonly results: RunSummary['results'] = [];
  /** Hosts out of the run: failed (not ignored) or unreachable. */
  readonly gone = new Set<string>();
  private readonly plans = new Map<string, HostPlan>();

  constructor(
    private readonly reporter: Reporter,
    private readonly catalog: ModuleRegistry,
    private readonly dryRun: boolean,
  ) {}

  statsOf(host: string): HostStats {
    let entry = this.stats.get(host);
    if (!entry) {
      entry = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, ignored: 0 };
      this.stats.set(host, entry);
    }
    return entry;
  }

  async record(ref: TaskRef, result: HostTaskResult): Promise<void> {
    const entry = this.statsOf(result.host);
    switch (result.status) {
      case 'ok':
        entry.ok += 1;
        break;
      case 'changed':
        entry.ok += 1;
        entry.changed += 1;
        break;
      case 'skipped':
        entry.skipped += 1;
        break;
      case 'unreachable':
        entry.unreachable += 1;
        this.gone.add(result.host);
        break;
      case 'failed':
        if (result.ignored) entry.ignored += 1;
        else {
          entry.failed += 1;
          this.gone.add(result.host);
        }
        break;
    }
    this.results.push({ ...ref, result });
    if (this.dryRun) this.addToPlan(ref, result);
    await this.reporter.event({ type: 'host_result', ...ref, result });
  }

  /** Hosts in the order the plays selected them, not the order their results arrived. */
  plan(): HostPlan[] {
    return [...this.stats.keys()].map((host) => this.plans.get(host)).filter((plan): plan is HostPlan => plan !== undefined);
  }

  private addToPlan(ref: TaskRef, result: HostTaskResult): void {
    let plan = this.plans.get(result.host);
    if (!plan) {
      plan = { host: result.host, tasks: [] };
      this.plans.set(result.host, plan);
    }
    plan.tasks.push({ ...ref, status: result.status, planned: result.planned === true, steps: result.steps, ...noteOf(ref, result, this.catalog) });
  }
}

/** What the dry-run prints beside a task: why it depends on run time, why it was skipped, or what debug says. */
function noteOf(ref: TaskRef, result: HostTaskResult, catalog: ModuleRegistry): { note?: string } {
  if (result.status === 'failed' || result.status === 'unreachable') return { note: result.msg };
  if (result.note !== undefined) return { note: result.note };
  if (result.status === 'skipped') return { note: result.reason };
  if (catalog.get(ref.module).meta.prints === true && result.display.msg !== undefined) return { note: result.display.msg };
  return {};
}
