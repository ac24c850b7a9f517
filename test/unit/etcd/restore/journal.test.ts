import { expect } from 'chai';
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RefusedError } from '../../../../src/errors.js';
import { archiveJournal, journalPath, JournalWriter, readJournal, type RestoreJournal } from '../../../../src/etcd/restore/journal.js';

function journal(): RestoreJournal {
  return {
    version: 1,
    runId: '20261115T101500Z',
    clusterToken: 'etcd-cluster-0',
    inventory: '/inv.yml',
    mode: 'member',
    status: 'in-progress',
    startedAt: '',
    updatedAt: '',
    snapshot: { path: '/s.db', sha256: 'c'.repeat(64), size: 1, revision: 1, totalKey: 1, hasHash: true, takenAt: '' },
    members: {},
    begun: [],
    done: {},
    marks: {},
  };
}

describe('restore journal', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lives under <inventory dir>/.orchestrate/restore-journal/, named by a file-safe cluster token', () => {
    expect(journalPath('/inv', 'etcd-cluster-0')).to.equal('/inv/.orchestrate/restore-journal/etcd-cluster-0.json');
    expect(journalPath('/inv', '../x y')).to.equal('/inv/.orchestrate/restore-journal/.._x_y.json');
  });

  it('keeps every concurrent change and is written owner-only, with no temporary file left', async () => {
    const path = journalPath(dir, 'tok');
    const writer = new JournalWriter(path, journal());
    await Promise.all(['h1', 'h2', 'h3', 'h4'].flatMap((host) => [writer.markDone(host, 'copy-snapshot'), writer.markDone(host, 'restore-data')]));
    await writer.markBegun('swap-data');
    const saved = await readJournal(path);
    expect(saved?.done).to.deep.equal({
      h1: ['copy-snapshot', 'restore-data'],
      h2: ['copy-snapshot', 'restore-data'],
      h3: ['copy-snapshot', 'restore-data'],
      h4: ['copy-snapshot', 'restore-data'],
    });
    expect(saved?.begun).to.deep.equal(['swap-data']);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    expect(readdirSync(dirname(path))).to.deep.equal(['tok.json']);
  });

  it('is absent before the first restore, and a damaged one is refused with its path', async () => {
    const path = journalPath(dir, 'tok');
    expect(await readJournal(path)).to.equal(undefined);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '{"version": 1, "runId": ');
    try {
      await readJournal(path);
      expect.fail('a damaged journal must be refused');
    } catch (error) {
      expect(error).to.be.instanceOf(RefusedError);
      expect((error as Error).message).to.contain(path);
    }
  });

  it('archives the previous run under its run id', async () => {
    const path = journalPath(dir, 'tok');
    const writer = new JournalWriter(path, journal());
    await writer.mark('started');
    const target = await archiveJournal(path, writer.journal);
    expect(target).to.equal(join(dirname(path), 'tok.20261115T101500Z.json'));
    const archived = JSON.parse(await readFile(target, 'utf8')) as RestoreJournal;
    expect(archived.marks.started).to.be.a('string');
    expect(await readJournal(path)).to.equal(undefined);
  });
});
