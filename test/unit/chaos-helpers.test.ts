// The chaos run's seeded source and percentiles (test/helpers/chaos.ts): a printed seed must replay the same
// kill moments, and the distribution must be read from the right ranks.
import { expect } from 'chai';
import { chaosSeed, distribution, quantile, seededRandom } from '../helpers/chaos.js';

describe('chaos helpers', () => {
  it('the same seed gives the same sequence, another seed another; every value in [0, 1)', () => {
    const take = (seed: number): number[] => Array.from({ length: 50 }, seededRandom(seed));
    expect(take(42)).to.deep.equal(take(42));
    expect(take(42)).not.to.deep.equal(take(43));
    for (const value of take(7)) expect(value).to.be.at.least(0).and.below(1);
    expect(new Set(take(7)).size, 'no short cycle').to.equal(50);
  });

  it('reads CHAOS_SEED, refusing what is not a non-negative integer', () => {
    expect(chaosSeed('1234')).to.equal(1234);
    expect(chaosSeed(undefined)).to.be.a('number');
    for (const bad of ['-1', '1.5', 'abc']) expect(() => chaosSeed(bad), bad).to.throw(`CHAOS_SEED must be a non-negative integer, not "${bad}"`);
  });

  it('takes nearest-rank quantiles', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect([quantile(ten, 0.5), quantile(ten, 0.9), quantile(ten, 1), quantile(ten, 0)]).to.deep.equal([5, 9, 10, 1]);
    expect(quantile([4], 0.9)).to.equal(4);
    expect(distribution([3000, 1000, 2000])).to.equal('min 1.0 s, median 2.0 s, p90 3.0 s, max 3.0 s (n=3)');
  });
});
