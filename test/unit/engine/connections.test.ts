import { expect } from 'chai';
import { parseInventory } from '../../../src/config/inventory.js';
import { ConnectionPool } from '../../../src/engine/connections.js';
import { UnreachableError } from '../../../src/errors.js';
import { fakeNetwork, threeHosts } from './fakes.js';

describe('ConnectionPool.reconnect: what a rollback does after a connection dropped', () => {
  it('tries an unreachable host anew, asks every live transport to reconnect, and keeps the ones that are fine', async () => {
    const unreachable = ['10.0.0.2'];
    const network = fakeNetwork(() => undefined, { unreachable });
    const { inventory } = parseInventory('/tmp/inventory.yml', threeHosts);
    const pool = new ConnectionPool(inventory, { openTransports: network.openTransports });
    await pool.openAll(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(await pool.get('10.0.0.2')).to.be.instanceOf(UnreachableError);
    const first = network.transports.get('10.0.0.1')!;
    let connects = 0;
    first.connect = () => {
      connects += 1;
      return Promise.resolve();
    };

    unreachable.length = 0; // the host is back
    await pool.reconnect();
    expect(network.opened).to.deep.equal([['10.0.0.1', '10.0.0.2', '10.0.0.3'], ['10.0.0.2']]);
    expect(connects).to.equal(1);
    expect(await pool.get('10.0.0.2')).to.not.be.instanceOf(UnreachableError);
    expect(await pool.get('10.0.0.1')).to.equal(first);
  });
});
