// Dependencies point one way (docs/ARCHITECTURE.md): every import in src/, static, dynamic or type-only,
// goes from a layer to the same or a lower one. A new folder must be given its layer here.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/** Higher imports lower. */
const layers: Record<string, number> = {
  cli: 8,
  commands: 7,
  engine: 6,
  modules: 5,
  etcd: 4,
  lab: 4,
  remote: 4.5,
  drill: 4.5,
  report: 4.7, // shows what drill and backup recorded
  transport: 3,
  template: 3,
  config: 2,
  shell: 1,
  util: 1,
  'errors.ts': 0,
  'package-root.ts': 0,
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

const topOf = (path: string): string => relative(src, path).split('/')[0] ?? '';

interface Edge {
  from: string;
  to: string;
  file: string;
  spec: string;
}

function edges(): Edge[] {
  const found: Edge[] = [];
  for (const file of filesUnder(src)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)) {
      const spec = match[1] ?? '';
      const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
      const from = topOf(file);
      const to = topOf(target);
      if (from !== to) found.push({ from, to, file: relative(src, file), spec });
    }
  }
  return found;
}

describe('architecture: dependencies point one way', () => {
  const all = edges();

  it('finds the imports it judges (the scan works)', () => {
    expect(all.length).to.be.greaterThan(100);
    expect(all.some((e) => e.from === 'engine' && e.to === 'modules')).to.equal(true);
  });

  it('every top-level folder of src/ has a layer', () => {
    const tops = new Set(filesUnder(src).map(topOf));
    for (const top of tops) expect(layers[top], `src/${top} has no layer in test/unit/architecture.test.ts`).to.be.a('number');
  });

  it('no import goes to a higher layer, type-only imports included', () => {
    const upward = all.filter((e) => (layers[e.to] ?? 99) > (layers[e.from] ?? -1)).map((e) => `${e.file} imports ${e.spec} (${e.from} -> ${e.to})`);
    expect(upward).to.deep.equal([]);
  });

  it('no import between two folders of the same layer (domain folders stay independent)', () => {
    const sideways = all
      .filter((e) => layers[e.to] === layers[e.from] && layers[e.from] !== undefined && layers[e.from]! > 1)
      .map((e) => `${e.file} imports ${e.spec} (${e.from} -> ${e.to})`);
    expect(sideways).to.deep.equal([]);
  });
});
