import { expect } from 'chai';
import { assertModule } from '../../../src/modules/assert.js';
import { debugModule } from '../../../src/modules/debug.js';
import { failModule } from '../../../src/modules/fail.js';
import { pauseModule } from '../../../src/modules/pause.js';
import { setFactModule } from '../../../src/modules/set-fact.js';
import { Deferred } from '../../../src/template/index.js';
import { context, drive } from './drive.js';

describe('local modules', () => {
  it('set_fact returns its arguments as facts (without cacheable)', async () => {
    const { steps, outcome } = await drive(setFactModule, { a: 1, b: ['x'], cacheable: true });
    expect(steps).to.deep.equal([]);
    expect(outcome.facts).to.deep.equal({ a: 1, b: ['x'] });
  });

  it('debug var evaluates the name against the task scope', async () => {
    const { outcome } = await drive(debugModule, { var: 'r.stdout' }, undefined, context({ vars: { r: { stdout: 'hi' } } }));
    expect(outcome.result).to.deep.equal({ 'r.stdout': 'hi' });
    expect(outcome.msg).to.equal('hi');
  });

  it('debug msg', async () => {
    expect((await drive(debugModule, { msg: ['a', 1] })).outcome.msg).to.equal('["a",1]');
  });

  const vars = { count: 3, name: 'etcd' };
  const assertions: { that: string | string[]; failed: boolean }[] = [
    { that: 'count == 3', failed: false },
    { that: ['count > 1', "name == 'etcd'"], failed: false },
    { that: ['count > 1', 'count > 5'], failed: true },
  ];
  for (const row of assertions) {
    it(`assert ${JSON.stringify(row.that)} -> ${row.failed ? 'fails' : 'passes'}`, async () => {
      const { outcome } = await drive(assertModule, { that: row.that, fail_msg: 'too few' }, undefined, context({ vars }));
      expect(outcome.failed ?? false).to.equal(row.failed);
      if (row.failed) expect(outcome.msg).to.equal('too few');
    });
  }

  it('assert on a run-time value does not guess', async () => {
    const { outcome } = await drive(assertModule, { that: 'r.rc == 0' }, undefined, context({ vars: { r: new Deferred('r') } }));
    expect(outcome.failed).to.equal(undefined);
    expect(outcome.msg).to.contain('<deferred:');
  });

  it('fail', async () => {
    expect((await drive(failModule, { msg: 'stop' })).outcome).to.include({ failed: true, msg: 'stop' });
  });

  it('pause is one call step that is not read-only, bounded by the schema', async () => {
    const { steps } = await drive(pauseModule, { seconds: 0 }, (step) => (step.kind === 'call' ? undefined : undefined));
    expect(steps).to.have.length(1);
    expect(steps[0]).to.include({ kind: 'call', readOnly: false, description: 'pause 0s' });
    expect((pauseModule.schema.properties as Record<string, { maximum: number }>).seconds?.maximum).to.equal(3600);
  });
});
