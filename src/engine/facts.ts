// Per-host facts (set_fact) and registered results: they outrank inventory and play vars and last the whole run.
import type { Vars } from '../config/types.js';

export class FactStore {
  private readonly byHost = new Map<string, Vars>();
  /** Bumped on every change, so cached views of hostvars know when to rebuild. */
  version = 0;

  of(host: string): Vars {
    let facts = this.byHost.get(host);
    if (!facts) {
      facts = Object.create(null) as Vars;
      this.byHost.set(host, facts);
    }
    return facts;
  }

  set(host: string, name: string, value: unknown): void {
    this.of(host)[name] = value;
    this.version += 1;
  }

  merge(host: string, values: Vars): void {
    for (const [name, value] of Object.entries(values)) this.of(host)[name] = value;
    this.version += 1;
  }

  snapshot(): Record<string, Vars> {
    const result: Record<string, Vars> = {};
    for (const [host, facts] of this.byHost) result[host] = { ...facts };
    return result;
  }
}
