import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPackageRoot, packagePath, packageRoot } from '../../src/package-root.js';

describe('package root', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'package-root-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is found from src/, dist/<area>/ and the bundle’s chunks alike', () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'orchestrate', type: 'module' }));
    for (const below of ['src', join('dist', 'config'), join('dist', 'chunks')]) {
      mkdirSync(join(dir, below), { recursive: true });
      expect(findPackageRoot(join(dir, below)), below).to.equal(dir);
    }
  });

  it('passes over a package.json of another name (dist/package.json, a parent project)', () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'orchestrate' }));
    mkdirSync(join(dir, 'dist', 'chunks'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'dist', 'chunks', 'package.json'), '{ not json');
    expect(findPackageRoot(join(dir, 'dist', 'chunks'))).to.equal(dir);
  });

  it('says so when there is none', () => {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    expect(() => findPackageRoot(join(dir, 'a', 'b'))).to.throw(/cannot find the orchestrate package/);
  });

  it('holds the files the code reads at run time', () => {
    expect(existsSync(join(packageRoot(), 'package.json'))).to.equal(true);
    for (const file of [
      packagePath('schemas', 'inventory.schema.json'),
      packagePath('playbooks', 'backup.yml'),
      packagePath('src', 'lab', 'assets', 'systemctl.sh'),
      packagePath('bin', 'orchestrate'),
    ]) {
      expect(existsSync(file), file).to.equal(true);
    }
  });
});
