// Text shared by the displays: timestamps, one line per host result, the recap, the dry-run plan.
import type { HostPlan, HostStats, HostTaskResult, PlannedStep, RunSummary } from '../types.js';

export function clock(date = new Date()): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

export function hostLabel(result: HostTaskResult): string {
  if (result.runOnceFrom) return `${result.host} <- ${result.runOnceFrom}`;
  return result.delegatedTo && result.delegatedTo !== result.host ? `${result.host} -> ${result.delegatedTo}` : result.host;
}

export function statusWord(result: HostTaskResult): string {
  switch (result.status) {
    case 'failed':
      return result.ignored ? 'failed (ignored)' : 'FAILED';
    case 'unreachable':
      return 'UNREACHABLE';
    default:
      return result.status;
  }
}

/** `12:00:01.123 [127.0.0.1] ok: Take snapshot (0.12s)` plus, when useful, the message and output tails. */
export function resultLines(task: string, module: string, result: HostTaskResult, now = new Date()): string[] {
  const head = `${clock(now)} [${hostLabel(result)}] ${statusWord(result)}: ${task} (${seconds(result.durationMs)})`;
  const { display } = result;
  if (result.status === 'failed' || result.status === 'unreachable') {
    const lines = [`${head} - ${result.msg}${display.rc !== undefined ? ` (rc=${display.rc})` : ''}`];
    if (display.stderrTail) lines.push(indent('stderr', display.stderrTail));
    else if (display.stdoutTail) lines.push(indent('stdout', display.stdoutTail));
    return lines;
  }
  if (module === 'debug' && display.msg !== undefined) return [`${head} => ${display.msg}`];
  return [head];
}

function indent(label: string, text: string): string {
  return text
    .split('\n')
    .map((line, i) => `    ${i === 0 ? `${label}: ` : ' '.repeat(label.length + 2)}${line}`)
    .join('\n');
}

export function formatRecap(summary: RunSummary): string {
  const hosts = Object.entries(summary.stats);
  const width = Math.max(10, ...hosts.map(([host]) => host.length));
  const field = (name: keyof HostStats, stats: HostStats) => `${name}=${stats[name]}`.padEnd(name.length + 6);
  const lines = hosts.map(
    ([host, stats]) =>
      `${host.padEnd(width)} : ${(['ok', 'changed', 'unreachable', 'failed', 'skipped', 'ignored'] as const)
        .map((name) => field(name, stats))
        .join(' ')
        .trimEnd()}`,
  );
  const verdict = summary.interrupted
    ? 'interrupted'
    : summary.exitCode === 0
      ? summary.dryRun
        ? 'dry run complete: nothing was changed'
        : 'ok'
      : summary.exitCode === 3
        ? 'failed'
        : 'unreachable hosts';
  return `\nPLAY RECAP ${'*'.repeat(60)}\n${lines.join('\n')}\n\n${verdict} in ${seconds(summary.durationMs)} (exit code ${summary.exitCode})\n`;
}

function planStatus(task: HostPlan['tasks'][number]): string {
  switch (task.status) {
    case 'changed':
      return task.planned ? 'would change' : 'changed';
    case 'ok':
      return task.planned ? 'would run' : 'no change';
    case 'skipped':
      return 'skipped';
    case 'failed':
      return 'would fail';
    case 'unreachable':
      return 'UNREACHABLE';
  }
}

function stepLine(step: PlannedStep): string {
  const where = step.on === 'localhost' ? ' [on the deploy host]' : '';
  if (step.ran) return `(checked) ${step.text}${where}`;
  return `${step.kind === 'exec' ? '$' : '>'} ${step.text}${where}`;
}

/** The dry-run plan: per host, in order, every task with the exact commands and transfers. */
export function formatPlan(plan: HostPlan[]): string {
  const out: string[] = [
    '',
    `DRY RUN: nothing was changed. What would run, per host, in order`,
    '("(checked)": a read-only check that did run; "$" and ">": commands and transfers that would run)',
  ];
  for (const host of plan) {
    out.push('', host.host);
    host.tasks.forEach((task, index) => {
      const note = task.note ? ` - ${task.note}` : '';
      out.push(`  ${String(index + 1).padStart(2)}. ${task.task} [${task.module}]: ${planStatus(task)}${note}`);
      for (const step of task.steps) {
        const [first = '', ...rest] = stepLine(step).split('\n');
        out.push(`        ${first}`);
        for (const line of rest) out.push(`          ${line}`);
      }
    });
  }
  return `${out.join('\n')}\n`;
}
