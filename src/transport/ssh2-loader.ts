// ssh2 takes a noticeable part of a second to load: it is loaded on the first connection, so a run that
// needs no SSH starts faster. Only third-party code is loaded this way; a dynamic import of our own
// modules would give them a second identity (and break instanceof) under mocha + tsx.

export type Ssh2Module = typeof import('ssh2');

let ssh2Loading: Promise<Ssh2Module> | undefined;

export function loadSsh2(): Promise<Ssh2Module> {
  // A CommonJS package: its `utils` export is reachable only through the default export.
  ssh2Loading ??= import('ssh2').then((module) => (module as unknown as { default: Ssh2Module }).default);
  return ssh2Loading;
}
