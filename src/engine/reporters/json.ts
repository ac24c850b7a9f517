// --json: one JSON object per line on stdout and nothing else there (warnings are events too).
import type { HostTaskResult, Reporter, RunEvent, RunSummary } from '../types.js';

export class JsonReporter implements Reporter {
  constructor(private readonly write: (line: string) => void = (line) => process.stdout.write(line)) {}

  event(event: RunEvent): void {
    for (const record of toRecords(event)) this.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }

  async close(): Promise<void> {}
}

/** The JSON lines for one event (the recap of a dry-run is preceded by the plan). */
export function toRecords(event: RunEvent): Record<string, unknown>[] {
  switch (event.type) {
    case 'run_start':
      return [{ event: 'run_start', playbook: event.playbook, dry_run: event.dryRun }];
    case 'play_start':
      return [{ event: 'play_start', play: event.play, hosts: event.hosts }];
    case 'task_start':
      return [
        {
          event: 'task_start',
          play: event.play,
          task: event.task,
          module: event.module,
          hosts: event.hosts,
          file: event.loc.file,
          line: event.loc.line,
        },
      ];
    case 'host_retry':
      return [
        {
          event: 'host_retry',
          play: event.play,
          task: event.task,
          host: event.host,
          attempt: event.attempt,
          retries_left: event.retriesLeft,
          msg: event.msg ?? null,
        },
      ];
    case 'host_result':
      return [hostResultRecord(event.play, event.task, event.module, event.result)];
    case 'warning':
      return [{ event: 'warning', msg: event.message }];
    case 'recap':
      return [...(event.summary.plan ? [planRecord(event.summary)] : []), recapRecord(event.summary)];
  }
}

function hostResultRecord(play: string, task: string, module: string, result: HostTaskResult): Record<string, unknown> {
  return {
    event: 'host_result',
    play,
    task,
    module,
    host: result.host,
    status: result.status,
    duration_ms: Math.round(result.durationMs),
    changed: result.status === 'changed',
    rc: result.display.rc ?? null,
    stdout_tail: result.display.stdoutTail ?? null,
    stderr_tail: result.display.stderrTail ?? null,
    msg: result.status === 'failed' || result.status === 'unreachable' ? result.msg : (result.display.msg ?? null),
    ...(result.status === 'failed' ? { ignored: result.ignored } : {}),
    ...(result.delegatedTo !== undefined ? { delegated_to: result.delegatedTo } : {}),
    ...(result.runOnceFrom !== undefined ? { run_once_from: result.runOnceFrom } : {}),
    ...(result.planned ? { planned: true } : {}),
    ...(result.steps.length > 0 ? { steps: result.steps.map(stepRecord) } : {}),
  };
}

function stepRecord(step: HostTaskResult['steps'][number]): Record<string, unknown> {
  return { kind: step.kind, text: step.text, read_only: step.readOnly, ran: step.ran, on: step.on };
}

function planRecord(summary: RunSummary): Record<string, unknown> {
  return {
    event: 'plan',
    hosts: (summary.plan ?? []).map((host) => ({
      host: host.host,
      tasks: host.tasks.map((task) => ({
        play: task.play,
        task: task.task,
        module: task.module,
        status: task.status,
        planned: task.planned,
        ...(task.note !== undefined ? { note: task.note } : {}),
        file: task.loc.file,
        line: task.loc.line,
        steps: task.steps.map(stepRecord),
      })),
    })),
  };
}

function recapRecord(summary: RunSummary): Record<string, unknown> {
  return {
    event: 'recap',
    hosts: summary.stats,
    exit_code: summary.exitCode,
    interrupted: summary.interrupted,
    dry_run: summary.dryRun,
    duration_ms: Math.round(summary.durationMs),
  };
}
