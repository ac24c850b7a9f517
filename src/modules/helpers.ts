// Small pieces shared by the core modules: building steps, reading exec results, Ansible-style booleans.
import { constants } from 'node:os';
import type { ExecStep, StepResult } from '../engine/step.js';
import type { ExecResult, TransferResult } from '../transport/types.js';

/** A mutating command: printed, not run, under --dry-run. */
export function execStep(command: string, extra: Omit<Partial<ExecStep>, 'kind' | 'command'> = {}): ExecStep {
  return { kind: 'exec', command, ...extra };
}

/** A check that changes nothing: it also runs under --dry-run. */
export function checkStep(command: string, extra: Omit<Partial<ExecStep>, 'kind' | 'command' | 'readOnly'> = {}): ExecStep {
  return { kind: 'exec', command, readOnly: true, ...extra };
}

/** The step's result as an ExecResult, or undefined when it was not run (dry-run). */
export function asExec(result: StepResult): ExecResult | undefined {
  if (result && typeof result === 'object' && 'exitCode' in result && 'stdout' in result) return result as ExecResult;
  return undefined;
}

export function asTransfer(result: StepResult): TransferResult | undefined {
  if (result && typeof result === 'object' && 'sha256' in result && 'bytes' in result) return result as TransferResult;
  return undefined;
}

/** Ansible strips the trailing newline of captured output. */
export function stripTrailingNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

export function splitLines(text: string): string[] {
  return text === '' ? [] : text.split(/\r?\n/);
}

/** The words Ansible accepts for booleans (YAML 1.2 reads `yes` as a string). */
export const booleanWords = ['yes', 'no', 'true', 'false', 'on', 'off', 'True', 'False', 'Yes', 'No', '1', '0'];

/** JSON Schema for an argument that is a boolean or one of Ansible's boolean words. */
export const booleanSchema = { anyOf: [{ type: 'boolean' }, { type: 'string', enum: booleanWords }] } as const;

export function toBool(value: unknown, fallback = false): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  return ['yes', 'true', 'on', '1'].includes(String(value).toLowerCase());
}

/** Why a command did not succeed, for `msg`. */
export function execFailure(result: ExecResult): string {
  if (result.timedOut) return `command timed out after ${Math.round(result.durationMs / 1000)}s`;
  if (result.exitCode === null) return result.signal ? `command killed by ${result.signal}` : 'command ended without an exit status';
  const signal = signalOfShellStatus(result.exitCode);
  return signal ? `non-zero return code (${result.exitCode} = 128 + ${signal.number}: killed by ${signal.name}?)` : 'non-zero return code';
}

/** A shell reports a command killed by signal N as 128+N; an exit status can look the same, hence only a hint. */
function signalOfShellStatus(code: number): { name: string; number: number } | undefined {
  if (code <= 128 || code > 128 + 64) return undefined;
  const number = code - 128;
  const name = Object.entries(constants.signals).find(([, value]) => value === number)?.[0];
  return name ? { name, number } : undefined;
}
