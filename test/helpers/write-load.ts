// A writer that keeps a lab cluster busy (a test fixture): `concurrency` loops, each putting a new key as
// soon as its last put was acknowledged, spread over one etcd3 client per member. Every acknowledged put is
// kept with the revision etcd gave it, so a test can tell exactly which of them a snapshot must hold.
import { readFile } from 'node:fs/promises';
import type { Etcd3 } from 'etcd3';
import { clientUrl } from '../../src/lab/etcdctl.js';
import type { LabInfo } from './lab.js';

export interface AckedPut {
  key: string;
  revision: number;
  /** Date.now() when the acknowledgement arrived. */
  at: number;
}

export interface WriteLoad {
  puts: AckedPut[];
  errors: string[];
  startedAt: number;
  stoppedAt: number;
}

export interface RunningWriter {
  /** Stops starting new puts, waits for those in flight, closes the clients. */
  stop(): Promise<WriteLoad>;
}

/** Keys `<prefix><n>`, n counting up from 0 (zero-padded), values of `valueBytes`. */
export async function startWriter(lab: LabInfo, prefix: string, concurrency = 16, valueBytes = 128): Promise<RunningWriter> {
  const { Etcd3 } = await import('etcd3');
  const credentials = {
    rootCertificate: await readFile(lab.pki.caFile),
    certChain: await readFile(lab.pki.clientCertFile),
    privateKey: await readFile(lab.pki.clientKeyFile),
  };
  // etcd3 reads no dial timeout: every call gets a deadline.
  const clients: Etcd3[] = lab.hosts.map(
    (host) => new Etcd3({ hosts: clientUrl(host.address), credentials, defaultCallOptions: () => ({ deadline: Date.now() + 10_000 }) }),
  );
  const value = 'x'.repeat(valueBytes);
  const load: WriteLoad = { puts: [], errors: [], startedAt: Date.now(), stoppedAt: 0 };
  let next = 0;
  let stopping = false;
  const loop = async (): Promise<void> => {
    while (!stopping && load.errors.length < 10) {
      const n = next++;
      const key = `${prefix}${String(n).padStart(7, '0')}`;
      try {
        const response = await clients[n % clients.length]!.put(key).value(value).exec();
        load.puts.push({ key, revision: Number(response.header.revision), at: Date.now() });
      } catch (error) {
        load.errors.push(`${key}: ${(error as Error).message}`);
      }
    }
  };
  const loops = Array.from({ length: concurrency }, () => loop());
  return {
    async stop() {
      stopping = true;
      await Promise.all(loops);
      load.stoppedAt = Date.now();
      for (const client of clients) client.close();
      return load;
    },
  };
}

/** Acknowledged puts per second between `from` and `to` (Date.now() values). */
export function putsPerSecond(load: WriteLoad, from: number, to: number): number {
  return load.puts.filter((p) => p.at >= from && p.at <= to).length / ((to - from) / 1000);
}
