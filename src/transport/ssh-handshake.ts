// One ssh2 client connection: TCP (or a given stream, such as a channel forwarded by a jump host), the
// handshake with the host key checked against known_hosts, and authentication with the offered keys,
// all within one deadline. A failure becomes one UnreachableError naming the host and the cause.
import type { Duplex } from 'node:stream';
import type { AnyAuthMethod, AuthenticationType, Client as SshClient, ConnectConfig } from 'ssh2';
import { UnreachableError } from '../errors.js';
import type { AuthAttempt } from './ssh-auth.js';
import { describeConnectFailure, type ConnectEndpoint, type Ssh2Error } from './ssh-connect-failure.js';
import { preferKnownKeyTypes, verifyHostKey, type HostKeyCheck, type RecordedHostKey } from './ssh-host-keys.js';
import type { Ssh2Module } from './ssh2-loader.js';

export interface HandshakeParams {
  endpoint: ConnectEndpoint;
  /** An open stream to the server (an early TCP socket, a jump host's forwarded channel); else ssh2 connects. */
  sock?: Duplex;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  hostKeys: HostKeyCheck;
  /** Tried in order; consumed. */
  auth: AuthAttempt[];
  /** Key files skipped before the handshake (passphrase-protected, no agent), for the failure message. */
  skippedKeys?: string[];
}

export interface OpenedClient {
  client: SshClient;
  /** Set when this connection recorded a new host key. */
  recordedHostKey?: RecordedHostKey;
  /** The host key that was checked and trusted (raw blob): a second client may be pinned to exactly it. */
  hostKey?: Buffer;
}

interface HandshakeState {
  tried: string[];
  errors: Ssh2Error[];
  hostKeyRefusal?: UnreachableError;
  recordedHostKey?: RecordedHostKey;
  hostKey?: Buffer;
}

/**
 * Connects and authenticates. `onClosed` is registered the moment the connection is ready, so no close is
 * missed; it receives the last error ssh2 reported after that (the cause of a lost connection).
 */
export function openSshClient(ssh2: Ssh2Module, params: HandshakeParams, onClosed: (cause?: Error) => void): Promise<OpenedClient> {
  const state: HandshakeState = { tried: [], errors: [] };
  const client = new ssh2.Client();
  const config = connectConfig(params, state);
  return new Promise<OpenedClient>((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(hardDeadline);
      if (error) reject(error);
      else
        resolve({
          client,
          ...(state.recordedHostKey ? { recordedHostKey: state.recordedHostKey } : {}),
          ...(state.hostKey ? { hostKey: state.hostKey } : {}),
        });
    };
    const { endpoint, connectTimeoutMs } = params;
    // ssh2 ends every failed attempt with `close`; this is only a backstop should it not.
    const hardDeadline = setTimeout(() => {
      client.destroy();
      settle(new UnreachableError(endpoint.host, `no SSH session with ${endpoint.address}:${endpoint.port} within ${connectTimeoutMs / 1000} s`));
    }, connectTimeoutMs + 5000);
    // An unusable agent or key is reported and skipped by ssh2; only the final outcome matters.
    client.on('error', (error: Ssh2Error) => state.errors.push(error));
    client.once('ready', () => {
      state.errors.length = 0; // from here on, errors describe a lost connection, not the handshake
      client.on('close', () => {
        onClosed(state.errors.at(-1));
      });
      settle();
    });
    client.once('close', () => {
      if (!settled) settle(state.hostKeyRefusal ?? describeConnectFailure(endpoint, state.errors, state.tried, connectTimeoutMs, params.skippedKeys));
    });
    try {
      client.connect(config);
      client.setNoDelay(true); // commands are small request/response exchanges: do not wait for Nagle
    } catch (error) {
      settle(new UnreachableError(endpoint.host, `cannot connect to ${endpoint.address}:${endpoint.port}: ${(error as Error).message}`));
    }
  });
}

function connectConfig(params: HandshakeParams, state: HandshakeState): ConnectConfig {
  const { endpoint, hostKeys } = params;
  const authHandler = (_methodsLeft: AuthenticationType[], _partial: boolean, next: (method: AnyAuthMethod | false) => void): void => {
    const attempt = params.auth.shift();
    if (!attempt) {
      next(false);
      return;
    }
    state.tried.push(attempt.description);
    next(attempt.method);
  };
  return {
    host: endpoint.address,
    port: endpoint.port,
    username: endpoint.user,
    readyTimeout: params.connectTimeoutMs,
    ...(params.sock ? { sock: params.sock } : {}),
    keepaliveInterval: params.keepaliveIntervalMs,
    keepaliveCountMax: params.keepaliveCountMax,
    algorithms: { serverHostKey: preferKnownKeyTypes(hostKeys.entries, hostKeys.address, hostKeys.port) },
    hostVerifier: (key: Buffer, verify: (permitted: boolean) => void) => {
      verifyHostKey(hostKeys, key).then(
        (recorded) => {
          if (recorded) state.recordedHostKey = recorded;
          state.hostKey = key;
          verify(true);
        },
        (error: unknown) => {
          state.hostKeyRefusal = error instanceof UnreachableError ? error : new UnreachableError(endpoint.host, String(error));
          verify(false);
        },
      );
    },
    // ssh2's typings declare the handler's callback form loosely; this is the documented signature.
    authHandler: authHandler as unknown as ConnectConfig['authHandler'],
  };
}
