// Values the modules of one run share with each other and with the command that started the run, typed
// by their key. The backup's attempt travels here: registered facts are for playbook authors, and parsing
// them back into types was a second, untyped contract between the YAML and the TypeScript.

export interface StateKey<T> {
  readonly name: string;
  readonly create: () => T;
}

/** A key to a value of type T, created on first use. */
export function stateKey<T>(name: string, create: () => T): StateKey<T> {
  return { name, create };
}

export class RunState {
  private readonly values = new Map<StateKey<unknown>, unknown>();

  /** The value under this key, created on first use. */
  get<T>(key: StateKey<T>): T {
    if (!this.values.has(key)) this.values.set(key, key.create());
    return this.values.get(key) as T;
  }

  /** The value under this key if a module or the command has set or asked for it. */
  peek<T>(key: StateKey<T>): T | undefined {
    return this.values.get(key) as T | undefined;
  }

  set<T>(key: StateKey<T>, value: T): void {
    this.values.set(key, value);
  }
}
