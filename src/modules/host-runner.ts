// A way for work in this process (a call step) to run a command on an inventory host over the run's own
// connection: the engine puts it in the run's state. Used to ask etcd on the members themselves, where the
// deploy host has no client certificate or cannot reach the client port.
import type { ExecResult } from '../transport/types.js';
import { stateKey } from './run-state.js';

export type HostRunner = (host: string, command: string, timeoutMs: number) => Promise<ExecResult>;

export const hostRunnerKey = stateKey<HostRunner | undefined>('host-runner', () => undefined);
