import { expect } from 'chai';
import { evaluate, truthy } from '../../../src/template/index.js';

const scope = {
  n: 7,
  f: 2.5,
  s: 'hello',
  empty: '',
  xs: [3, 1, 2],
  d: { a: 1, b: 'two', nested: { deep: true } },
  m: new Map<string, unknown>([
    ['k', 'v'],
    ['n', 2],
  ]),
  none: null,
  result: { rc: 0, stdout: 'cluster is healthy', changed: true, failed: false },
  failedResult: { rc: 1, failed: true, changed: false },
  skippedResult: { skipped: true, changed: false },
  loopResult: { results: [{ changed: false }, { changed: true }] },
};

// expression -> expected value (Python/Jinja semantics)
const table: [string, unknown][] = [
  ['1 + 2 * 3', 7],
  ['(1 + 2) * 3', 9],
  ['7 / 2', 3.5],
  ['7 // 2', 3],
  ['-7 // 2', -4],
  ['-7 % 3', 2],
  ['7 % -3', -2],
  ['2 ** 10', 1024],
  ['2 ** 3 ** 2', 64],
  ['-n', -7],
  ['"a" ~ 1 ~ true ~ none', 'a1TrueNone'],
  ["'ab' + 'cd'", 'abcd'],
  ["'ab' * 3", 'ababab'],
  ['[1] + [2, 3]', [1, 2, 3]],
  ["'it\\'s' ~ \"\\n\"", "it's\n"],
  ["'\\d+'", '\\d+'],
  ["'a' 'b'", 'ab'],
  ['1.5e3', 1500],
  ['true and false', false],
  ['True or False', true],
  ['0 or "x"', 'x'],
  ['"" and 1', ''],
  ['not empty', true],
  ['not not s', true],
  ['n == 7.0', true],
  ['1 == true', true],
  ['[1, [2]] == [1, [2]]', true],
  ["{'a': 1} == {'a': 1}", true],
  ['n != 7', false],
  ['1 < 2 < 3', true],
  ['3 > 2 > 2', false],
  ["'abc' < 'abd'", true],
  ['[1, 2] < [1, 3]', true],
  ["'ell' in s", true],
  ['2 in xs', true],
  ['5 not in xs', true],
  ["'a' in d", true],
  ["'k' in m", true],
  ["'x' if n > 5 else 'y'", 'x'],
  ["'x' if n > 50 else 'y'", 'y'],
  ["'x' if n > 50", ''],
  ['d.a', 1],
  ["d['b']", 'two'],
  ['d.nested.deep', true],
  ['m.k', 'v'],
  ["m['n'] + 1", 3],
  ['xs[0]', 3],
  ['xs[-1]', 2],
  ['xs.1', 1],
  ['[[1, 2], [3]].0.1', 2],
  ['-1 | abs', 1],
  ['not x is defined', true],
  ["d.a ~ '/' ~ d.b | upper", '1/TWO'],
  ['xs[1:]', [1, 2]],
  ['xs[:-1]', [3, 1]],
  ['xs[::-1]', [2, 1, 3]],
  ['xs[::2]', [3, 2]],
  ['s[1:3]', 'el'],
  ['s[-1]', 'o'],
  ["{'k': n, 'l': [1, 2]}", { k: 7, l: [1, 2] }],
  ['(1, 2)', [1, 2]],
  ['()', []],
  ['x is defined', false],
  ['x is not defined', true],
  ['x is undefined', true],
  ['x.y.z is defined', false],
  ['d.a is defined', true],
  ['d.zzz is defined', false],
  ["hostvars is not defined or hostvars['h'].v", true],
  ['none is none', true],
  ['s is string', true],
  ['n is number', true],
  ['f is float', true],
  ['n is integer', true],
  ['d is mapping', true],
  ['m is mapping', true],
  ['xs is iterable', true],
  ['n is iterable', false],
  ['n is divisibleby 7', true],
  ['n is odd', true],
  ['n is even', false],
  ['n is eq 7', true],
  ['n is equalto(7)', true],
  ['s is match("hel")', true],
  ['s is match("ell")', false],
  ['s is search("ell")', true],
  ["'3.5.17' is version('3.5.0', '>=')", true],
  ["'3.4.23' is version('3.5', 'ge')", false],
  ["'3.10.0' is version('3.9.1', '>')", true],
  ['result is succeeded', true],
  ['result is failed', false],
  ['failedResult is failed', true],
  ['failedResult is succeeded', false],
  ['result is changed', true],
  ['skippedResult is skipped', true],
  ['result is skipped', false],
  ['loopResult is changed', true],
  ["result.rc == 0 and 'healthy' in result.stdout", true],
  ["result.stdout.split(' ')[1]", 'is'],
  ["s.startswith('he') and s.endswith('lo')", true],
  ["'  pad  '.strip()", 'pad'],
  ['d.items() | list | length', 3],
  ["d.get('zzz', 'dflt')", 'dflt'],
  ["d.get('a')", 1],
  ['range(3)', [0, 1, 2]],
  ['range(1, 7, 2)', [1, 3, 5]],
  ['"%s=%d" % ("a", 5)', 'a=5'],
  ["'{{ x }}'", '{{ x }}'],
];

describe('template evaluate()', () => {
  for (const [expression, expected] of table) {
    it(`${expression} -> ${JSON.stringify(expected)}`, () => {
      expect(evaluate(expression, scope)).to.deep.equal(expected);
    });
  }

  it('accepts a condition written with redundant braces, as Ansible does', () => {
    expect(evaluate('{{ n > 5 }}', scope)).to.equal(true);
  });

  it('refuses tags in a bare condition', () => {
    expect(() => evaluate('{% if n %}x{% endif %}', scope)).to.throw(/bare expression/);
  });
});

describe('template truthy()', () => {
  const cases: [unknown, boolean][] = [
    ['', false],
    ['0', true],
    ['false', true],
    [0, false],
    [0.0, false],
    [2, true],
    [[], false],
    [[0], true],
    [{}, false],
    [{ a: 1 }, true],
    [new Map(), false],
    [null, false],
    [true, true],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} is ${expected ? 'true' : 'false'}`, () => expect(truthy(value)).to.equal(expected));
  }
});
