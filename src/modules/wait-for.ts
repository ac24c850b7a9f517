// `wait_for`: wait on the target host until a TCP port or a path reaches a state, bounded by `timeout`.
// The loop runs remotely in one command (one round trip); the script is fixed text and every value
// reaches it as a positional argument, never as shell syntax.
import { shellJoin } from '../shell/quote.js';
import { defineModule } from './define.js';
import { exec } from './plan-steps.js';

export interface WaitForArgs {
  host?: string;
  port?: number;
  path?: string;
  state?: 'started' | 'stopped' | 'present' | 'absent';
  timeout?: number;
  delay?: number;
  sleep?: number;
  msg?: string;
}

/** $1 host, $2 port, $3 path, $4 state, $5 timeout s, $6 delay s, $7 poll interval s. */
const waitScript = [
  'host=$1 port=$2 path=$3 state=$4 timeout=$5 delay=$6 interval=$7',
  'sleep "$delay"',
  'end=$(( $(date +%s) + timeout ))',
  'check() { if [ -n "$port" ]; then timeout 2 bash -c \'exec 3<>"/dev/tcp/$0/$1"\' "$host" "$port" 2>/dev/null; else [ -e "$path" ]; fi; }',
  'while :; do',
  '  case $state in started|present) check && exit 0 ;; *) check || exit 0 ;; esac',
  '  [ "$(date +%s)" -ge "$end" ] && exit 1',
  '  sleep "$interval"',
  'done',
].join('\n');

export const waitForModule = defineModule({
  id: 'wait_for',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      host: { type: 'string', minLength: 1 },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      path: { type: 'string', minLength: 1 },
      state: { enum: ['started', 'stopped', 'present', 'absent'] },
      timeout: { type: 'number', minimum: 0, maximum: 86400 },
      delay: { type: 'number', minimum: 0, maximum: 3600 },
      sleep: { type: 'number', exclusiveMinimum: 0, maximum: 60 },
      msg: { type: 'string' },
    },
    additionalProperties: false,
    oneOf: [{ required: ['port'] }, { required: ['path'] }],
  },
  async *plan(_ctx, args) {
    const state = args.state ?? 'started';
    const timeout = args.timeout ?? 300;
    const delay = args.delay ?? 0;
    const interval = args.sleep ?? 0.25;
    const host = args.host ?? '127.0.0.1';
    const target = args.port !== undefined ? `${host}:${args.port}` : (args.path ?? '');
    const started = Date.now();
    const command = shellJoin(['bash', '-c', waitScript, 'wait_for', host, args.port ?? '', args.path ?? '', state, timeout, delay, interval]);
    const result = yield* exec(command, { timeoutMs: Math.ceil((timeout + delay + 10) * 1000) });
    const elapsed = Math.round((Date.now() - started) / 1000);
    if (!result) return { changed: false, result: { state, elapsed: 0 } };
    if (result.exitCode !== 0) {
      const msg = args.msg ?? `Timeout when waiting for ${target} to be ${state} (${timeout}s)`;
      return { changed: false, failed: true, msg, result: { state, elapsed } };
    }
    return {
      changed: false,
      result: { state, elapsed, ...(args.port !== undefined ? { port: args.port } : {}), ...(args.path !== undefined ? { path: args.path } : {}) },
    };
  },
});
