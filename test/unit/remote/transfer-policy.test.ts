import { expect } from 'chai';
import {
  backoffMs,
  choosePartSize,
  DEFAULT_POLICY,
  MAX_PARTS,
  MIN_PART_SIZE,
  partTimeoutMs,
  RateMeter,
} from '../../../src/remote/transfer-policy.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('remote transfer policy', () => {
  describe('choosePartSize', () => {
    const cases: [string, number, number][] = [
      ['a small snapshot', 20 * 1024, 5 * MiB],
      ['1 GiB', GiB, 5 * MiB],
      ["etcd's largest database (8 GiB)", 8 * GiB, 5 * MiB],
      ['100 GiB', 100 * GiB, 12 * MiB],
      ['1 TiB', 1024 * GiB, 117 * MiB],
    ];
    for (const [what, size, expected] of cases) {
      it(`${what}: ${expected / MiB} MiB parts`, () => {
        const part = choosePartSize(size);
        expect(part).to.equal(expected);
        expect(Math.ceil(size / part)).to.be.at.most(9_000);
        expect(part % MiB).to.equal(0);
      });
    }
    it('never goes below S3 minimum or over the part count limit', () => {
      expect(choosePartSize(0, 1)).to.equal(MIN_PART_SIZE);
      for (const size of [5 * GiB, 77 * GiB, 4000 * GiB]) expect(Math.ceil(size / choosePartSize(size))).to.be.below(MAX_PARTS);
    });
  });

  describe('backoffMs', () => {
    it('doubles from the base, is capped, and adds at most 50% jitter', () => {
      const policy = { ...DEFAULT_POLICY, backoffBaseMs: 1_000, backoffMaxMs: 20_000 };
      expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, policy, 0))).to.deep.equal([1_000, 2_000, 4_000, 8_000, 16_000, 20_000]);
      expect(backoffMs(2, policy, 0.999)).to.equal(2_999);
    });
  });

  describe('partTimeoutMs', () => {
    const policy = { ...DEFAULT_POLICY, minPartTimeoutMs: 60_000, slowFactor: 8, floorBytesPerSecond: 64 * 1024 };
    it('before any rate is measured, allows the part at the floor rate', () => {
      expect(partTimeoutMs(8 * MiB, undefined, policy)).to.equal(128_000);
    });
    it('scales with the measured rate: eight times what the rate predicts', () => {
      expect(partTimeoutMs(8 * MiB, 0.5 * MiB, policy)).to.equal(128_000);
      expect(partTimeoutMs(8 * MiB, 0.1 * MiB, policy)).to.equal(640_000);
    });
    it('never below the minimum, however fast the link', () => {
      expect(partTimeoutMs(8 * MiB, 1000 * MiB, policy)).to.equal(60_000);
    });
  });

  it('RateMeter averages bytes over the time they took', () => {
    const meter = new RateMeter();
    expect(meter.bytesPerSecond).to.equal(undefined);
    meter.add(4 * MiB, 1_000);
    meter.add(4 * MiB, 3_000);
    expect(meter.bytesPerSecond).to.equal(2 * MiB);
  });
});
