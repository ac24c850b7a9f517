import { expect } from 'chai';
import { LazyTemplate, referencedVariables, render, renderDeep, isTemplated } from '../../../src/template/index.js';

const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const hostvars: Record<string, Record<string, unknown>> = {
  '10.0.0.1': { etcd_name: 'etcd1' },
  '10.0.0.2': { etcd_name: 'etcd2' },
  '10.0.0.3': { etcd_name: 'etcd3' },
};
const scope = {
  groups: { etcd: hosts, kube_master: ['10.0.0.1'] },
  hostvars,
  inventory_hostname: '10.0.0.2',
  items: ['a', 'b', 'c'],
  d: { x: 1, y: 2 },
  port: 2379,
  flag: true,
  nothing: null,
};

// template -> rendered value
const table: [string, unknown][] = [
  ['plain text', 'plain text'],
  ['{{ port }}', 2379],
  ['  {{ port }}\n', 2379],
  ['{{ items }}', ['a', 'b', 'c']],
  ['{{ d }}', { x: 1, y: 2 }],
  ['{{ nothing }}', null],
  ['port={{ port }}', 'port=2379'],
  ['{{ flag }}!', 'True!'],
  ['{{ nothing }}!', 'None!'],
  ['{{ items }} ', ['a', 'b', 'c']],
  ['list: {{ items }}', 'list: ["a", "b", "c"]'],
  ['{{ port }}{{ port }}', '23792379'],
  ['a {# comment #}b', 'a b'],
  ['{% if flag %}yes{% else %}no{% endif %}', 'yes'],
  ['{% if not flag %}1{% elif port > 2000 %}2{% else %}3{% endif %}', '2'],
  ['{% for i in items %}{{ loop.index }}{{ i }}{% endfor %}', '1a2b3c'],
  ['{% for i in items %}{{ i }}{% if not loop.last %},{% endif %}{% endfor %}', 'a,b,c'],
  ['{% for i in items %}{{ loop.first }}{% endfor %}', 'TrueFalseFalse'],
  ['{% for i in items %}{{ loop.index0 }}/{{ loop.length }}/{{ loop.revindex }} {% endfor %}', '0/3/3 1/3/2 2/3/1 '],
  ['{% for i in items if i != "b" %}{{ i }}{{ loop.index }}{% endfor %}', 'a1c2'],
  ['{% for i in [] %}x{% else %}empty{% endfor %}', 'empty'],
  ['{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}', 'x=1;y=2;'],
  ['{% for k in d %}{{ k }}{% endfor %}', 'xy'],
  ['{% for c in "ab" %}[{{ c }}]{% endfor %}', '[a][b]'],
  ['{% set n = port + 1 %}{{ n }}', '2380'],
  ['{% set a, b = [1, 2] %}{{ b }}{{ a }}', '21'],
  ['{% set n = 1 %}{% for i in items %}{% set n = 5 %}{% endfor %}{{ n }}', '1'],
  ['{% for i in items %}{% set j = i ~ i %}{{ j }}{% endfor %}', 'aabbcc'],
  // Whitespace control and Ansible's trim_blocks.
  ['{% if flag %}\nyes\n{% endif %}\n', 'yes\n'],
  ['a  {%- if flag -%}  b  {%- endif -%}  c', 'abc'],
  ['a\n{{- port -}}\nb', 'a2379b'],
  ['{{ port }}\nx', '2379\nx'],
  ['{% raw %}{{ not templated }}{% endraw %}', '{{ not templated }}'],
  ["{{ {'a': {'b': 1}} }}", { a: { b: 1 } }],
  ["{{ '}}' }}", '}}'],
  // kubeasz shapes
  [
    "{% for h in groups['etcd'] %}{{ hostvars[h].etcd_name }}=https://{{ h }}:2380{% if not loop.last %},{% endif %}{% endfor %}",
    'etcd1=https://10.0.0.1:2380,etcd2=https://10.0.0.2:2380,etcd3=https://10.0.0.3:2380',
  ],
  ["{{ groups['etcd'] | map('extract', hostvars, 'etcd_name') | list }}", ['etcd1', 'etcd2', 'etcd3']],
  ["{{ groups['etcd'] | map('extract', hostvars, 'etcd_name') | join(',') }}", 'etcd1,etcd2,etcd3'],
  ['{{ hostvars[inventory_hostname].etcd_name }}', 'etcd2'],
  ["{{ hostvars[groups['etcd'][0]]['etcd_name'] }}", 'etcd1'],
  [
    "{{ groups.etcd | map('regex_replace', '^(.*)$', 'https://\\\\1:2379') | join(',') }}",
    'https://10.0.0.1:2379,https://10.0.0.2:2379,https://10.0.0.3:2379',
  ],
  ["{{ inventory_hostname in groups['kube_master'] }}", false],
  // kubeasz 3.7.0's roles/cluster-restore defaults, 94.backup.yml's set_fact and config.yml's K8S_NODENAME
  ["{{ 'etcd-a=https://a:2380,etcd-b=https://b:2380,'.rstrip(',') }}", 'etcd-a=https://a:2380,etcd-b=https://b:2380'],
  ["{% for host in groups['etcd'] %}{{ host }} {% endfor %}", '10.0.0.1 10.0.0.2 10.0.0.3 '],
  ["{{ 'a,b,,'.rstrip(',') }}", 'a,b'],
  ["{{ '  x  '.strip() }}|{{ 'xxay'.lstrip('x') }}", 'x|ay'],
  ["{%- if inventory_hostname != '' -%} k8s-{{ inventory_hostname|replace('.', '-') }} {%- else -%} none {%- endif -%}", 'k8s-10-0-0-2'],
];

describe('template render()', () => {
  for (const [template, expected] of table) {
    it(`${JSON.stringify(template)} -> ${JSON.stringify(expected)}`, () => {
      expect(render(template, scope)).to.deep.equal(expected);
    });
  }

  it('reads groups and hostvars held in Maps as well as plain objects', () => {
    const mapScope = {
      groups: new Map([['etcd', hosts]]),
      hostvars: new Map(Object.entries(hostvars).map(([host, vars]) => [host, new Map(Object.entries(vars))])),
    };
    expect(render("{{ groups['etcd'] | map('extract', hostvars, 'etcd_name') | list }}", mapScope)).to.deep.equal(['etcd1', 'etcd2', 'etcd3']);
    expect(render('{% for h in groups.etcd %}{{ hostvars[h].etcd_name }} {% endfor %}', mapScope)).to.equal('etcd1 etcd2 etcd3 ');
  });

  it('recognises templated text and leaves other text alone', () => {
    expect(isTemplated('no braces')).to.equal(false);
    expect(isTemplated('a {{ b }}')).to.equal(true);
    expect(isTemplated('{% if x %}{% endif %}')).to.equal(true);
    expect(render('{ not: a template }', {})).to.equal('{ not: a template }');
  });
});

describe('template renderDeep()', () => {
  it('renders strings, keys included, inside arrays and objects and keeps other values', () => {
    const input = { cmd: 'echo {{ port }}', '{{ d.x }}_key': ['{{ items | length }}', 5, true, null], nested: { list: '{{ items }}' } };
    expect(renderDeep(input, scope)).to.deep.equal({ cmd: 'echo 2379', '1_key': [3, 5, true, null], nested: { list: ['a', 'b', 'c'] } });
  });

  it('never sets a prototype through a rendered "__proto__" key', () => {
    const rendered = renderDeep(JSON.parse('{"__proto__": {"polluted": "{{ port }}"}}'), scope) as Record<string, unknown>;
    expect(Object.getPrototypeOf(rendered)).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(Object.getOwnPropertyDescriptor(rendered, '__proto__')?.value).to.deep.equal({ polluted: 2379 });
  });
});

describe('template LazyTemplate (variables that are templates)', () => {
  it('renders a variable that refers to others when it is read, in its own host scope', () => {
    const hostA: Record<string, unknown> = { base_dir: '/etc/kubeasz', name: 'a' };
    hostA.cluster_dir = new LazyTemplate('{{ base_dir }}/clusters/{{ name }}', hostA, 'cluster_dir');
    const hostB: Record<string, unknown> = { base_dir: '/opt', name: 'b' };
    hostB.cluster_dir = new LazyTemplate('{{ base_dir }}/clusters/{{ name }}', hostB, 'cluster_dir');
    const current = { ...hostA, hostvars: { a: hostA, b: hostB } };
    expect(render('{{ cluster_dir }}', current)).to.equal('/etc/kubeasz/clusters/a');
    expect(render("{{ hostvars['b'].cluster_dir }}", current)).to.equal('/opt/clusters/b');
    expect(render("{{ hostvars | dict2items | map(attribute='value.cluster_dir') | list }}", current)).to.deep.equal([
      '/etc/kubeasz/clusters/a',
      '/opt/clusters/b',
    ]);
  });

  it('reports a variable that refers to itself instead of looping', () => {
    const host: Record<string, unknown> = {};
    host.a = new LazyTemplate('{{ b }}', host, 'a');
    host.b = new LazyTemplate('x{{ a }}', host, 'b');
    expect(() => render('{{ a }}', host)).to.throw(/refers to itself/);
  });
});

describe('template referencedVariables()', () => {
  const cases: [string, string[]][] = [
    ['{{ a }} {{ b.c }} {{ d[e] }}', ['a', 'b', 'd', 'e']],
    ['{% for h in groups.etcd %}{{ hostvars[h].x }}{{ loop.index }}{% endfor %}{{ h }}', ['groups', 'hostvars', 'h']],
    ['{% set n = m %}{{ n }}', ['m']],
    ["{{ x | default(y) | map('extract', hostvars) }} {{ range(3) }}", ['x', 'y', 'hostvars']],
  ];
  for (const [template, names] of cases) {
    it(`${template} reads ${names.join(', ')}`, () => expect(referencedVariables(template)).to.deep.equal(names));
  }

  it('works on bare expressions', () => {
    expect(referencedVariables('result.rc == 0 and x is defined', { expression: true })).to.deep.equal(['result', 'x']);
  });
});
