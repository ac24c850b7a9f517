import { expect } from 'chai';
import { createRegistry, moduleCatalog } from '../../../src/modules/registry.js';
import { allModules } from '../../../src/modules/all.js';
import { defineModule } from '../../../src/modules/define.js';

describe('module registry', () => {
  it('finds modules by id, alias and collection prefix', () => {
    expect(moduleCatalog.lookup('shell')?.id).to.equal('shell');
    expect(moduleCatalog.lookup('ansible.builtin.shell')?.id).to.equal('shell');
    expect(moduleCatalog.lookup('systemd')?.id).to.equal('service');
    expect(moduleCatalog.lookup('ansible.builtin.systemd_service')?.id).to.equal('service');
    expect(moduleCatalog.lookup('ansible.legacy.command')?.freeForm).to.equal('cmd');
    expect(moduleCatalog.lookup('nope')).to.equal(undefined);
    expect(moduleCatalog.get('ansible.builtin.copy').id).to.equal('copy');
  });

  it('lists every name for suggestions', () => {
    const names = moduleCatalog.names();
    for (const module of allModules) expect(names).to.include(module.id);
    expect(names).to.include('systemd');
  });

  it('validates templated arguments with clear messages', () => {
    expect(moduleCatalog.validate('shell', { cmd: 'ls' })).to.deep.equal([]);
    expect(moduleCatalog.validate('shell', { cmd: 'ls', chdri: '/x' })).to.deep.equal(['unknown argument "chdri"']);
    expect(moduleCatalog.validate('service', {})).to.deep.equal(['missing argument "name"']);
    expect(moduleCatalog.validate('service', { name: 'etcd', state: 'up' })[0]).to.match(/state must be one of: started, stopped/);
    expect(moduleCatalog.validate('command', {})).to.deep.equal(['give exactly one of: cmd, argv']);
    expect(moduleCatalog.validate('file', { path: '/x', mode: 644 })[0]).to.contain('ambiguous');
  });

  it('coerces numbers written as text (k=v arguments)', () => {
    const args: Record<string, unknown> = { port: '2379', timeout: '5' };
    expect(moduleCatalog.validate('wait_for', args)).to.deep.equal([]);
    expect(args.port).to.equal(2379);
  });

  it('refuses a module registered twice or a name used twice', () => {
    const a = defineModule({
      id: 'x.a',
      meta: { runsOn: 'host' },
      schema: {},
      async *plan() {
        return { changed: false };
      },
    });
    const b = defineModule({
      id: 'x.b',
      aliases: ['x.a'],
      meta: { runsOn: 'host' },
      schema: {},
      async *plan() {
        return { changed: false };
      },
    });
    expect(() => createRegistry([a, a])).to.throw(/twice/);
    expect(() => createRegistry([a, b])).to.throw(/two modules/);
  });
});
