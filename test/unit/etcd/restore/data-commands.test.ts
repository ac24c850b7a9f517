import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDfAvailableKiB, parseTool, revertSwapCommand, swapCommand } from '../../../../src/etcd/restore/data-commands.js';
import { restorePaths, type MemberRestorePaths } from '../../../../src/etcd/restore/paths.js';

// The swap and revert scripts run in a real sh against real folders: each dir holds a file naming its content.
type Layout = Partial<Record<'data' | 'aside' | 'fresh' | 'rolled', string>>;

function sh(command: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

describe('restore data dir commands', () => {
  let root: string;
  let paths: MemberRestorePaths;
  const dirOf = (key: keyof Layout): string =>
    ({ data: paths.dataDir, aside: paths.asideDir, fresh: paths.newDir, rolled: paths.restoredAsideDir })[key];
  const build = (layout: Layout): void => {
    for (const [key, label] of Object.entries(layout) as [keyof Layout, string][]) {
      mkdirSync(dirOf(key), { recursive: true });
      writeFileSync(join(dirOf(key), 'label'), label);
    }
  };
  const observe = (): Layout => {
    const seen: Layout = {};
    for (const key of ['data', 'aside', 'fresh', 'rolled'] as const) {
      if (existsSync(dirOf(key))) seen[key] = readFileSync(join(dirOf(key), 'label'), 'utf8');
    }
    return seen;
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "restore it's $(x) "));
    paths = restorePaths(join(root, 'etcd'), '20261115T101500Z');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const swapCases: { title: string; before: Layout; hadOld?: boolean; out: string; after: Layout; code?: number }[] = [
    { title: 'normal swap', before: { data: 'old', fresh: 'new' }, out: 'swapped', after: { data: 'new', aside: 'old' } },
    { title: 'interrupted between the two moves', before: { aside: 'old', fresh: 'new' }, out: 'swapped', after: { data: 'new', aside: 'old' } },
    { title: 'already swapped', before: { data: 'new', aside: 'old' }, out: 'already-swapped', after: { data: 'new', aside: 'old' } },
    { title: 'member without old data', before: { fresh: 'new' }, hadOld: false, out: 'swapped-no-old-data', after: { data: 'new' } },
    { title: 'member without old data, already swapped', before: { data: 'new' }, hadOld: false, out: 'already-swapped', after: { data: 'new' } },
    { title: 'restored dir lost: refuses', before: { data: 'old' }, out: '', code: 3, after: { data: 'old' } },
    {
      title: 'aside name taken: refuses, touches nothing',
      before: { data: 'old', aside: 'other', fresh: 'new' },
      out: '',
      code: 3,
      after: { data: 'old', aside: 'other', fresh: 'new' },
    },
  ];
  for (const c of swapCases) {
    it(`swap: ${c.title}`, () => {
      build(c.before);
      const r = sh(swapCommand(paths, c.hadOld ?? true));
      expect(r.code, r.stderr).to.equal(c.code ?? 0);
      expect(r.stdout).to.equal(c.out);
      expect(observe()).to.deep.equal(c.after);
      if (c.code === undefined) {
        const again = sh(swapCommand(paths, c.hadOld ?? true));
        expect(again.stdout).to.equal('already-swapped');
        expect(observe()).to.deep.equal(c.after);
      }
    });
  }

  const revertCases: { title: string; before: Layout; hadOld?: boolean; out: string; after: Layout; code?: number }[] = [
    { title: 'after a swap', before: { data: 'new', aside: 'old' }, out: 'reverted', after: { data: 'old', rolled: 'new' } },
    { title: 'interrupted between the two moves of the swap', before: { aside: 'old', fresh: 'new' }, out: 'reverted', after: { data: 'old' } },
    { title: 'before the swap: drops only the scratch dir', before: { data: 'old', fresh: 'new' }, out: 'not-swapped', after: { data: 'old' } },
    { title: 'already reverted', before: { data: 'old', rolled: 'new' }, out: 'already-reverted', after: { data: 'old', rolled: 'new' } },
    { title: 'member that had no data', before: { data: 'new' }, hadOld: false, out: 'reverted', after: { rolled: 'new' } },
    { title: 'nothing there: refuses', before: {}, out: '', code: 3, after: {} },
  ];
  for (const c of revertCases) {
    it(`revert: ${c.title}`, () => {
      build(c.before);
      writeFileSync(paths.snapshotCopy, 'snapshot');
      const r = sh(revertSwapCommand(paths, c.hadOld ?? true));
      expect(r.code, r.stderr).to.equal(c.code ?? 0);
      expect(r.stdout).to.equal(c.out);
      expect(observe()).to.deep.equal(c.after);
      expect(existsSync(paths.snapshotCopy)).to.equal(c.code !== undefined);
    });
  }

  it('parses df -Pk and command -v output', () => {
    expect(parseDfAvailableKiB('Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 263174212 23000000 83000000 23% /\n')).to.equal(
      83000000,
    );
    expect(parseDfAvailableKiB('')).to.equal(undefined);
    expect(parseTool('/usr/local/bin/etcdutl\n')).to.equal('etcdutl');
    expect(parseTool('/usr/bin/etcdctl\n')).to.equal('etcdctl');
    expect(parseTool('')).to.equal(undefined);
  });
});

describe('restore data dir commands: a dedicated disk (the data dir and the WAL dir are mount points)', () => {
  // Run by a real sh. The mount is simulated by a plain folder: what matters is that nothing renames it.
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'restore inside $(x) '));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const put = (path: string, text: string): void => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  };
  const read = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

  it('swaps member/ inside the data dir and the entries of the WAL dir, then reverts both; the mount points are never renamed', () => {
    const data = join(root, 'etcd');
    const wal = join(root, 'wal');
    const paths = restorePaths(data, 'R1', { mode: 'inside', walDir: wal, walMode: 'inside' });
    put(join(data, 'member', 'label'), 'old');
    put(join(data, 'lost+found', 'keep'), 'disk');
    put(join(wal, '0000.wal'), 'old-wal');
    put(join(paths.data.fresh, 'label'), 'new');
    put(join(paths.wal!.fresh, '0001.wal'), 'new-wal');

    const swapped = sh(swapCommand(paths, true));
    expect(swapped.code, swapped.stderr).to.equal(0);
    expect(swapped.stdout.split('\n')).to.deep.equal(['swapped', 'swapped']);
    expect(read(join(data, 'member', 'label'))).to.equal('new');
    expect(read(join(paths.data.aside, 'label'))).to.equal('old');
    expect(read(join(data, 'lost+found', 'keep'))).to.equal('disk');
    expect(read(join(wal, '0001.wal'))).to.equal('new-wal');
    expect(read(join(wal, '0000.wal'))).to.equal(undefined);
    expect(read(join(paths.wal!.aside, '0000.wal'))).to.equal('old-wal');
    expect(sh(swapCommand(paths, true)).stdout.split('\n'), 'sent again').to.deep.equal(['already-swapped', 'already-swapped']);

    const reverted = sh(revertSwapCommand(paths, true));
    expect(reverted.code, reverted.stderr).to.equal(0);
    expect(read(join(data, 'member', 'label'))).to.equal('old');
    expect(read(join(paths.data.rolledBack, 'label'))).to.equal('new');
    expect(read(join(wal, '0000.wal'))).to.equal('old-wal');
    expect(read(join(paths.wal!.rolledBack, '0001.wal'))).to.equal('new-wal');
    expect(read(join(data, 'lost+found', 'keep'))).to.equal('disk');
  });

  it('refuses (exit 3) when the restored member/ is missing, touching nothing', () => {
    const data = join(root, 'etcd');
    const paths = restorePaths(data, 'R2', { mode: 'inside' });
    put(join(data, 'member', 'label'), 'old');
    const r = sh(swapCommand(paths, true));
    expect(r.code).to.equal(3);
    expect(read(join(data, 'member', 'label'))).to.equal('old');
  });
});
