// A loopback HTTP proxy in front of a real S3 server that injects the failures a network and a sick
// server produce: 5xx answers, requests that are never answered, and a slow link. Everything else is
// passed through byte for byte (headers included, so SigV4 signatures still verify upstream).
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type RequestMatcher = (req: IncomingMessage) => boolean;

export const isPartUpload: RequestMatcher = (req) => req.method === 'PUT' && (req.url ?? '').includes('partNumber=');

export interface FaultProxy {
  endpoint: string;
  /** Method and path of every request seen, in order. */
  seen: string[];
  /** Answer the next `count` matching requests with `status` (an S3 XML error), without forwarding them. */
  failNext(count: number, match?: RequestMatcher, status?: number): void;
  /** Read the next `count` matching requests and never answer. */
  stallNext(count: number, match?: RequestMatcher): void;
  /** Forget every failure not yet injected and go back to full speed. */
  reset(): void;
  /** Pass request bodies at most this fast (undefined: full speed). */
  throttle(bytesPerSecond: number | undefined): void;
  close(): Promise<void>;
}

interface Rule {
  kind: 'fail' | 'stall';
  left: number;
  match: RequestMatcher;
  status: number;
}

function throttled(bytesPerSecond: () => number | undefined): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const rate = bytesPerSecond();
      if (rate === undefined) {
        callback(null, chunk);
        return;
      }
      setTimeout(() => callback(null, chunk), Math.ceil((chunk.length / rate) * 1000));
    },
  });
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const rules: Rule[] = [];
  const seen: string[] = [];
  const hanging: ServerResponse[] = [];
  let rate: number | undefined;
  const server = createServer((req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    const rule = rules.find((r) => r.left > 0 && r.match(req));
    if (rule) {
      rule.left--;
      req.resume();
      if (rule.kind === 'stall') {
        hanging.push(res);
        return;
      }
      req.on('end', () => {
        res.writeHead(rule.status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected by the test proxy</Message></Error>`);
      });
      return;
    }
    const upstream = request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer: IncomingMessage) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    pipeline(
      req,
      throttled(() => rate),
      upstream,
    ).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    failNext: (count, match = () => true, status = 500) => rules.push({ kind: 'fail', left: count, match, status }),
    stallNext: (count, match = () => true) => rules.push({ kind: 'stall', left: count, match, status: 0 }),
    reset: () => {
      rules.length = 0;
      rate = undefined;
    },
    throttle: (bytesPerSecond) => {
      rate = bytesPerSecond;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
