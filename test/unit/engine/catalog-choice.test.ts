import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { playbookFrom } from '../../../src/engine/run-playbook.js';
import { files, threeHosts } from './fakes.js';

/** The full catalog knows the etcd modules; the core one does not. */
const isFull = (catalog: { lookup(name: string): unknown }) => catalog.lookup('etcd.status') !== undefined;

describe('engine: which module catalog a playbook is loaded with', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const load = async (playbook: string) => {
    const paths = files(threeHosts, playbook);
    dirs.push(paths.dir);
    return playbookFrom(paths.playbook, undefined);
  };

  it('core modules only (ansible.builtin names included): the core catalog, nothing else loaded', async () => {
    const { catalog, playbook } = await load('- hosts: etcd\n  tasks:\n    - ansible.builtin.shell: echo hi\n    - debug: { msg: x }\n');
    expect(isFull(catalog)).to.equal(false);
    expect(playbook.plays[0]?.tasks.map((t) => t.module)).to.deep.equal(['shell', 'debug']);
  });

  it('a dotted module name in the file: the full catalog', async () => {
    const { catalog } = await load('- hosts: etcd\n  tasks:\n    - name: status\n      etcd.status: {}\n');
    expect(isFull(catalog)).to.equal(true);
  });

  it('a module the text scan cannot see: loading with the core catalog fails, the full one is used', async () => {
    const { catalog, playbook } = await load('- hosts: etcd\n  tasks:\n    - { name: status, etcd.status: {} }\n');
    expect(isFull(catalog)).to.equal(true);
    expect(playbook.plays[0]?.tasks[0]?.module).to.equal('etcd.status');
  });

  it('a genuinely unknown module is still a config error', async () => {
    let error: unknown;
    await load('- hosts: etcd\n  tasks:\n    - shel: echo hi\n').catch((e: unknown) => (error = e));
    expect((error as Error).message).to.contain('shel');
  });
});
