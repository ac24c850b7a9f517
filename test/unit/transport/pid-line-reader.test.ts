import { expect } from 'chai';
import { PidLineReader } from '../../../src/transport/pid-line-reader.js';

function read(chunks: string[]): { pid: Promise<number | undefined>; output: () => string } {
  const forwarded: Buffer[] = [];
  const reader = new PidLineReader((chunk) => forwarded.push(chunk));
  for (const chunk of chunks) reader.push(Buffer.from(chunk));
  reader.flush();
  return { pid: reader.pid, output: () => Buffer.concat(forwarded).toString() };
}

describe('PidLineReader', () => {
  const cases: Array<{ name: string; chunks: string[]; pid: number | undefined; output: string }> = [
    { name: 'pid line and output in one chunk', chunks: ['4242\nhello\n'], pid: 4242, output: 'hello\n' },
    { name: 'pid line split across chunks', chunks: ['42', '42', '\nhel', 'lo'], pid: 4242, output: 'hello' },
    { name: 'no output after the pid', chunks: ['7\n'], pid: 7, output: '' },
    { name: 'something else first: passed through', chunks: ['Welcome!\n4242\nhello\n'], pid: undefined, output: 'Welcome!\n4242\nhello\n' },
    { name: 'a long first line without newline: passed through', chunks: ['x'.repeat(30), 'y'], pid: undefined, output: `${'x'.repeat(30)}y` },
    { name: 'nothing at all', chunks: [], pid: undefined, output: '' },
    { name: 'a partial line at the end is output', chunks: ['12'], pid: undefined, output: '12' },
  ];
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const { pid, output } = read(testCase.chunks);
      expect(await pid).to.equal(testCase.pid);
      expect(output()).to.equal(testCase.output);
    });
  }
});
