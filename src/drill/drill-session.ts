// The bookkeeping of one drill: stage times, checks, events, and how it ended. A stage that cannot go on
// throws DrillStop; whatever ends the drill becomes `failure` and an exit code here, in one place.
import { randomBytes } from 'node:crypto';
import { ExitCode } from '../errors.js';
import type { DrillCheck } from './drill-checks.js';
import type { DrillOptions, DrillResult, DrillStage } from './drill-types.js';

export class DrillStop extends Error {
  constructor(
    readonly stage: DrillStage,
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export class DrillSession {
  readonly started = Date.now();
  readonly id = randomBytes(8).toString('hex');
  readonly result: DrillResult;
  private lapStarted = this.started;
  stage: DrillStage = 'snapshot';

  constructor(
    cluster: string,
    private readonly options: DrillOptions,
  ) {
    this.result = {
      ok: false,
      exitCode: ExitCode.failed,
      id: this.id,
      cluster,
      startedAt: new Date(this.started).toISOString(),
      endedAt: '',
      durationMs: 0,
      snapshot: { path: options.snapshot ?? 'latest' },
      members: [],
      timings: { stages: [] },
      checks: [],
      expectations: [],
      resources: [],
      leftBehind: { pids: [] },
    };
  }

  get elapsedMs(): number {
    return Date.now() - this.started;
  }

  begin(stage: DrillStage): void {
    this.stage = stage;
    this.lapStarted = Date.now();
  }

  /** The current stage took from `begin` to now. */
  end(message?: string): void {
    this.result.timings.stages.push({ stage: this.stage, ms: Date.now() - this.lapStarted });
    if (message) this.say(message);
  }

  say(message: string, ok = true): void {
    this.options.emit?.({ stage: this.stage, message, atMs: this.elapsedMs, ok });
  }

  check(check: DrillCheck): void {
    this.result.checks.push(check);
    this.say(`${check.ok ? 'ok' : 'FAILED'} ${check.id}: ${check.detail}`, check.ok);
  }

  /** Turn whatever stopped the drill into its failure; returns nothing, the result carries it. */
  absorb(error: unknown): void {
    if (error instanceof DrillStop) {
      this.result.failure = { stage: error.stage, message: error.message };
      this.result.exitCode = error.exitCode;
    } else if (this.options.signal?.aborted) {
      this.result.failure = { stage: 'interrupted', message: `interrupted during ${this.stage}` };
      this.result.exitCode = ExitCode.interrupted;
    } else {
      this.result.failure = { stage: this.stage, message: error instanceof Error ? error.message : String(error) };
      this.result.exitCode = ExitCode.failed;
    }
    this.say(`FAILED ${this.result.failure.stage}: ${this.result.failure.message}`, false);
  }

  finish(): DrillResult {
    const failed = this.result.checks.filter((c) => !c.ok);
    if (!this.result.failure && failed.length > 0) {
      this.result.failure = { stage: 'checks', message: failed.map((c) => `${c.id}: ${c.detail}`).join('; ') };
      this.result.exitCode = ExitCode.failed;
    }
    if (!this.result.failure && this.result.leftBehind.pids.length > 0) {
      this.result.failure = { stage: 'teardown', message: `etcd processes ${this.result.leftBehind.pids.join(', ')} did not stop` };
      this.result.exitCode = ExitCode.failed;
    }
    this.result.ok = !this.result.failure;
    if (this.result.ok) this.result.exitCode = ExitCode.ok;
    this.result.endedAt = new Date().toISOString();
    this.result.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    this.result.durationMs = this.elapsedMs;
    return this.result;
  }
}
