import { expect } from 'chai';
import {
  connectionOptions,
  helpOption,
  parseCommandLine,
  positiveInteger,
  singleArgument,
  withInterrupts,
} from '../../../src/commands/command-line.js';
import { UsageError } from '../../../src/errors.js';

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('command-line helpers', () => {
  it('parses options and positionals, and names --help of the command for an unknown option', () => {
    const { values, positionals } = parseCommandLine('backup', ['inv.yml', '--known-hosts', 'kh', '--accept-new-host-keys'], {
      ...connectionOptions,
      ...helpOption,
    });
    expect(positionals).to.deep.equal(['inv.yml']);
    expect(values['known-hosts']).to.equal('kh');
    expect(values['accept-new-host-keys']).to.equal(true);
    const error = usageError(() => parseCommandLine('backup', ['--bogus'], helpOption));
    expect(error.message).to.contain('--bogus');
    expect(error.hint).to.equal('run `orchestrate backup --help` for the options');
    expect(error.exitCode).to.equal(2);
  });

  it('takes exactly one argument', () => {
    expect(singleArgument(['a.yml'], 'inventory', 'orchestrate status INVENTORY')).to.equal('a.yml');
    expect(usageError(() => singleArgument([], 'inventory', 'orchestrate status INVENTORY')).message).to.equal('no inventory given');
    const extra = usageError(() => singleArgument(['a.yml', 'b.yml'], 'playbook', 'orchestrate run PLAYBOOK -i INVENTORY'));
    expect(extra.message).to.equal('unexpected argument "b.yml"');
    expect(extra.hint).to.equal('give one playbook; orchestrate run PLAYBOOK -i INVENTORY');
  });

  for (const [text, ok] of [
    ['3', true],
    ['0', false],
    ['-1', false],
    ['1.5', false],
    ['ten', false],
    ['', false],
    ['0x3', false],
    ['1e2', false],
    [' 3', false],
    ['3.0', false],
    ['007', true],
  ] as const) {
    it(`positiveInteger(${JSON.stringify(text)}) ${ok ? 'accepts' : 'refuses'} it`, () => {
      if (ok) expect(positiveInteger(text, '--forks')).to.equal(Number(text));
      else expect(usageError(() => positiveInteger(text, '--forks')).message).to.match(/^--forks must be a positive whole number/);
    });
  }

  it('turns SIGINT into an abort of the work, and removes its handlers afterwards', async () => {
    const before = process.listenerCount('SIGINT');
    const result = await withInterrupts({ first: 'stopping', second: 'exiting' }, async (signal) => {
      expect(process.listenerCount('SIGINT')).to.equal(before + 1);
      const aborted = new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(true)));
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = () => true;
      try {
        process.emit('SIGINT', 'SIGINT');
      } finally {
        process.stderr.write = write;
      }
      return aborted;
    });
    expect(result).to.equal(true);
    expect(process.listenerCount('SIGINT')).to.equal(before);
  });

  it('follows a linked abort signal', async () => {
    const outer = new AbortController();
    const seen = await withInterrupts(
      { first: 'a', second: 'b' },
      async (signal) => {
        outer.abort();
        return signal.aborted;
      },
      outer.signal,
    );
    expect(seen).to.equal(true);
  });
});
