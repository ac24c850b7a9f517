import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsSudo, wrapWithSudo } from '../../../src/transport/become.js';
import { CappedOutput } from '../../../src/transport/capped-output.js';
import { ChannelLimiter } from '../../../src/transport/channel-limiter.js';
import { parseSha256Output, sha256Command, sha256File, sha256Hex } from '../../../src/transport/sha256.js';
import { octalMode } from '../../../src/transport/shell-transfer.js';
import { stagePathInTmp, tempPathFor } from '../../../src/transport/temp-path.js';

describe('transport helpers', () => {
  describe('CappedOutput', () => {
    it('keeps everything below the cap', () => {
      const output = new CappedOutput(16);
      output.push(Buffer.from('abc'));
      output.push('def');
      expect(output.truncated).to.equal(false);
      expect(output.text()).to.equal('abcdef');
    });

    it('keeps the head and the tail and says how much was dropped', () => {
      const output = new CappedOutput(10);
      for (const chunk of ['01234', '56789', 'abcde', 'fghij', 'KLMNO']) output.push(chunk);
      expect(output.truncated).to.equal(true);
      expect(output.text()).to.equal('01234\n[orchestrate: 15 bytes of output omitted]\nKLMNO');
    });

    it('trims a chunk larger than the whole cap', () => {
      const output = new CappedOutput(8);
      output.push('x'.repeat(1000) + 'TAIL');
      expect(output.text()).to.equal('xxxx\n[orchestrate: 996 bytes of output omitted]\nTAIL');
    });
  });

  describe('ChannelLimiter', () => {
    it('runs at most `limit` at once and hands slots over in order', async () => {
      const limiter = new ChannelLimiter(2);
      const order: number[] = [];
      let running = 0;
      let peak = 0;
      await Promise.all(
        [0, 1, 2, 3, 4].map(async (index) => {
          const release = await limiter.acquire();
          running += 1;
          peak = Math.max(peak, running);
          order.push(index);
          await new Promise((resolve) => setTimeout(resolve, 10));
          running -= 1;
          release();
        }),
      );
      expect(peak).to.equal(2);
      expect(order).to.deep.equal([0, 1, 2, 3, 4]);
      expect(limiter.active).to.equal(0);
    });

    it('can lower its limit and drops aborted waiters', async () => {
      const limiter = new ChannelLimiter(3);
      const first = await limiter.acquire();
      const second = await limiter.acquire();
      limiter.lowerLimit(1);
      expect(limiter.capacity).to.equal(1);
      const controller = new AbortController();
      const aborted = limiter.acquire(controller.signal);
      const queued = limiter.acquire();
      controller.abort(new Error('stop'));
      const reason = await aborted.then(
        () => undefined,
        (error: unknown) => (error as Error).message,
      );
      expect(reason).to.equal('stop');
      let granted = false;
      void queued.then(() => (granted = true));
      first();
      await new Promise((resolve) => setImmediate(resolve));
      expect(granted).to.equal(false); // still one running, limit is 1
      second();
      await new Promise((resolve) => setImmediate(resolve));
      expect(granted).to.equal(true);
    });

    it('hands out a free slot without waiting, tells when a caller queues, and counts the waiting', async () => {
      let queuedCalls = 0;
      const limiter = new ChannelLimiter(1, () => (queuedCalls += 1));
      const held = limiter.tryAcquire();
      expect(held).to.be.a('function');
      expect(limiter.tryAcquire(), 'no slot left').to.equal(undefined);
      expect(queuedCalls).to.equal(0);
      const waiting = limiter.acquire();
      expect(queuedCalls).to.equal(1);
      expect(limiter.waiting).to.equal(1);
      held!();
      const release = await waiting;
      expect(limiter.waiting).to.equal(0);
      expect(limiter.active).to.equal(1);
      release();
      expect(limiter.active).to.equal(0);
    });
  });

  describe('sha256', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'orchestrate-sha-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('agrees with sha256sum through the shell command, for an awkward file name', async () => {
      const file = join(dir, "it's a \\ file\nname");
      writeFileSync(file, 'some bytes\n');
      const printed = execFileSync('/bin/sh', ['-c', sha256Command(file)]).toString();
      const local = await sha256File(file);
      expect(parseSha256Output(printed)).to.equal(local);
      expect(sha256Hex('some bytes\n')).to.equal(local);
    });

    it('falls back to sha256sum when openssl fails, and fails itself for a missing file', async () => {
      const bin = join(dir, 'bin');
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, 'openssl'), '#!/bin/sh\necho "FIPS: sha256 not allowed" >&2\nexit 1\n', { mode: 0o755 });
      const file = join(dir, 'plain');
      writeFileSync(file, 'other bytes\n');
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
      const printed = execFileSync('/bin/sh', ['-c', sha256Command(file)], { env }).toString();
      expect(parseSha256Output(printed)).to.equal(await sha256File(file));
      expect(printed).to.match(/^[0-9a-f]{64} {2}/);
      expect(() => execFileSync('/bin/sh', ['-c', sha256Command(join(dir, 'missing'))], { stdio: 'pipe' })).to.throw(/No such file/);
    });

    it('finds no digest in other output', () => {
      expect(parseSha256Output('sha256sum: x: No such file or directory\n')).to.equal(undefined);
    });
  });

  it('wraps commands for sudo only when needed', () => {
    expect(needsSudo('root', true)).to.equal(false);
    expect(needsSudo('deploy', true)).to.equal(true);
    expect(needsSudo('deploy', false)).to.equal(false);
    expect(needsSudo('deploy', undefined)).to.equal(false);
    expect(wrapWithSudo("echo 'x'; id")).to.equal(`sudo -n -- sh -c 'echo '\\''x'\\''; id'`);
  });

  it('names temporary files next to the target and unguessably in /tmp', () => {
    expect(tempPathFor('/var/backups/snap.db')).to.match(/^\/var\/backups\/snap\.db\.orchestrate-tmp-[0-9a-f]{16}$/);
    expect(tempPathFor('/a')).to.not.equal(tempPathFor('/a'));
    expect(stagePathInTmp()).to.match(/^\/tmp\/orchestrate-stage-[0-9a-f]{32}$/);
    expect(octalMode(0o600)).to.equal('0600');
    expect(octalMode(0o4755)).to.equal('4755');
  });
});
