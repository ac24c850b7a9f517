import { expect } from 'chai';
import { parseKeyValueArgs, splitArgs } from '../../../src/config/key-value-args.js';

describe('key=value module arguments', () => {
  const table: [string, Record<string, string>, string[]][] = [
    ['name=etcd state=stopped', { name: 'etcd', state: 'stopped' }, []],
    ['name={{ item }} state=started enabled=yes', { name: '{{ item }}', state: 'started', enabled: 'yes' }, []],
    [
      `NODE_IPS="{% for host in groups['etcd'] %}{{ host }} {% endfor %}"`,
      { NODE_IPS: "{% for host in groups['etcd'] %}{{ host }} {% endfor %}" },
      [],
    ],
    ['var="ETCD_CLUSTER_STATUS"', { var: 'ETCD_CLUSTER_STATUS' }, []],
    [`msg='it is "quoted"' other="a \\" b"`, { msg: 'it is "quoted"', other: 'a " b' }, []],
    ['path={{ dir }}/{{ name | default("x y") }}', { path: '{{ dir }}/{{ name | default("x y") }}' }, []],
    ['echo hello a=b', { a: 'b' }, ['echo', 'hello']],
    ['=x 1a=b', {}, ['=x', '1a=b']],
    ['  ', {}, []],
  ];
  for (const [text, args, rest] of table) {
    it(JSON.stringify(text), () => {
      const parsed = parseKeyValueArgs(text);
      expect(parsed.args).to.deep.equal(args);
      expect(parsed.rest).to.deep.equal(rest);
      expect(parsed.unclosed).to.equal(undefined);
    });
  }

  it('reports an unclosed quote or template block', () => {
    expect(splitArgs('msg="open').unclosed).to.equal('"');
    expect(splitArgs('msg={{ open').unclosed).to.equal('{{');
    expect(splitArgs('msg={% if x %}').unclosed).to.equal(undefined);
  });
});
