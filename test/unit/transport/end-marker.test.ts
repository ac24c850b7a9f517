import { expect } from 'chai';
import { EndMarkerScanner } from '../../../src/transport/end-marker.js';

const marker = Buffer.from('\x1eNONCE42', 'latin1');

function scan(stream: string, cut: (text: string) => string[]): { output: string; suffix: string | undefined } {
  const forwarded: Buffer[] = [];
  let suffix: string | undefined;
  let calls = 0;
  const scanner = new EndMarkerScanner(
    marker,
    (chunk) => forwarded.push(Buffer.from(chunk)),
    (found) => {
      calls += 1;
      suffix = found;
    },
  );
  for (const chunk of cut(stream)) scanner.push(Buffer.from(chunk, 'latin1'));
  if (suffix === undefined) scanner.flush();
  expect(calls).to.be.at.most(1);
  return { output: Buffer.concat(forwarded).toString('latin1'), suffix };
}

const whole = (text: string): string[] => [text];
// One piece per character (the test texts are ASCII and latin1, one byte each).
const bytewise = (text: string): string[] => Array.from({ length: text.length }, (_, index) => text.charAt(index));
const splitAt =
  (at: number) =>
  (text: string): string[] => [text.slice(0, at), text.slice(at)];

describe('EndMarkerScanner', () => {
  const cases: Array<{ name: string; stream: string; output: string; suffix: string | undefined }> = [
    { name: 'output then the marker with a status', stream: 'hello\n\x1eNONCE42 0\n', output: 'hello\n', suffix: ' 0' },
    { name: 'output without a trailing newline', stream: 'no newline\x1eNONCE42 17\n', output: 'no newline', suffix: ' 17' },
    { name: 'no output at all (stderr marker, no status)', stream: '\x1eNONCE42\n', output: '', suffix: '' },
    {
      name: 'a record separator and a partial marker inside the output stay output',
      stream: 'a\x1eb\x1eNONCE4 c\x1eNONCE42 1\n',
      output: 'a\x1eb\x1eNONCE4 c',
      suffix: ' 1',
    },
    { name: "another command's marker is output", stream: '\x1eNONCE41 0\n\x1eNONCE42 3\n', output: '\x1eNONCE41 0\n', suffix: ' 3' },
    { name: 'what follows the end belongs to no command', stream: 'x\x1eNONCE42 0\nlate background output', output: 'x', suffix: ' 0' },
    { name: 'the stream ends without a marker: all of it is output', stream: 'partial \x1eNONCE', output: 'partial \x1eNONCE', suffix: undefined },
    { name: 'a marker without its newline is not the end yet', stream: 'x\x1eNONCE42 0', output: 'x', suffix: undefined },
  ];
  for (const testCase of cases) {
    for (const [how, cut] of [
      ['in one chunk', whole],
      ['byte by byte', bytewise],
      ['cut in the marker', splitAt(testCase.stream.indexOf('NONCE') + 3)],
    ] as const) {
      it(`${testCase.name} (${how})`, () => {
        const result = scan(testCase.stream, cut);
        expect(result.suffix).to.equal(testCase.suffix);
        expect(result.output).to.equal(testCase.output);
      });
    }
  }

  it('ends on an overlong suffix instead of holding output forever', () => {
    const result = scan(`x\x1eNONCE42 ${'9'.repeat(40)}`, whole);
    expect(result.output).to.equal('x');
    expect(result.suffix).to.have.length.above(32);
  });

  it('keeps large output intact and forwards it as it comes', () => {
    const big = 'y'.repeat(1_000_000);
    const forwarded: number[] = [];
    let suffix: string | undefined;
    const scanner = new EndMarkerScanner(
      marker,
      (chunk) => forwarded.push(chunk.length),
      (found) => (suffix = found),
    );
    for (let i = 0; i < big.length; i += 65_536) scanner.push(Buffer.from(big.slice(i, i + 65_536)));
    expect(forwarded.reduce((a, b) => a + b, 0)).to.be.above(big.length - marker.length);
    scanner.push(Buffer.from('\x1eNONCE42 0\n', 'latin1'));
    expect(forwarded.reduce((a, b) => a + b, 0)).to.equal(big.length);
    expect(suffix).to.equal(' 0');
  });
});
