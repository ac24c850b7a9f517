// `orchestrate report` from journals recorded on real restores of a 3-member lab (test/fixtures/report,
// made by test/e2e/report-fixtures-record.ts): one that completed, one that failed and rolled back, one
// interrupted with Ctrl-C. Each report is loaded in Debian's headless chromium: no console error, no
// request for anything, the lanes, bars and marks drawn, a screenshot and a PDF. No lab needed.
import { expect } from 'chai';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCliFromSource, type CliResult } from '../helpers/cli.js';
import { pngSize, visitInChromium } from './report-browser.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'report');

interface Drawn {
  lanes: string[];
  bars: { host: string; phase: string; kind: string; status: string }[];
  marks: string[];
  title: string;
  figures: string[];
}

const DRAWN = `JSON.stringify({
  lanes: [...document.querySelectorAll('svg.timeline g.lane')].map((g) => g.getAttribute('data-host')),
  bars: [...document.querySelectorAll('svg.timeline g.bar')].map((g) => ({ host: g.dataset.host, phase: g.dataset.phase, kind: g.dataset.kind, status: g.dataset.status })),
  marks: [...document.querySelectorAll('svg.timeline g.mark')].map((g) => g.getAttribute('data-kind')),
  title: document.querySelector('#restore h2').textContent,
  figures: [...document.querySelectorAll('#restore .figure-value')].map((e) => e.textContent),
})`;

function tail(result: CliResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout\n${result.stdout.slice(-2000)}\n--- stderr\n${result.stderr.slice(-2000)}`;
}

describe('report: recorded restores drawn as a timeline, loaded in chromium', function () {
  this.timeout(120_000);
  let dir: string;
  let inventory: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-report-e2e-'));
    inventory = join(dir, 'inventory.yml');
    const hosts = ['127.0.143.1', '127.0.143.2', '127.0.143.3'].map((h) => `        ${h}: {}`).join('\n');
    await writeFile(
      inventory,
      `all:\n  vars:\n    etcd_cluster_token: etcd-cluster-0\n  children:\n    etcd:\n      hosts:\n${hosts}\n    kube_master:\n      hosts:\n${hosts}\n`,
    );
  });

  after(async () => rm(dir, { recursive: true, force: true }));

  async function render(name: string, extra: string[] = []): Promise<{ file: string; drawn: Drawn }> {
    const out = join(dir, `${name}.html`);
    const result = await runCliFromSource(
      [
        'report',
        inventory,
        '--journal',
        join(fixtures, `${name}.journal.json`),
        '--events',
        join(fixtures, `${name}.events.jsonl`),
        '--no-status',
        '--out',
        out,
        ...extra,
      ],
      { env: { CI: '1' }, timeoutMs: 60_000 },
    );
    expect(result.code, tail(result)).to.equal(0);
    expect(result.stdout.trim()).to.equal(out);
    expect((await stat(out)).mode & 0o777).to.equal(0o600);
    const visit = await visitInChromium(out, DRAWN);
    expect(visit.errors, 'console errors').to.deep.equal([]);
    expect(visit.requests, 'requests for anything but the file').to.deep.equal([]);
    const size = pngSize(visit.screenshot);
    expect(size.width).to.be.within(1000, 1100); // the viewport less a scroll bar
    expect(size.height).to.be.greaterThan(900);
    // Kept for a person to look at when ORCHESTRATE_SCREENSHOTS names a folder.
    const keep = process.env.ORCHESTRATE_SCREENSHOTS;
    if (keep) {
      await mkdir(keep, { recursive: true });
      await writeFile(join(keep, `report-${name}.png`), visit.screenshot);
      await writeFile(join(keep, `report-${name}.pdf`), visit.pdf);
    }
    expect(visit.pdf.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
    return { file: out, drawn: JSON.parse(visit.value as string) as Drawn };
  }

  it('a completed restore: a lane per host, every phase in order, the API down and up again, RTO and RPO', async () => {
    const journal = JSON.parse(await readFile(join(fixtures, 'completed.journal.json'), 'utf8')) as {
      members: Record<string, unknown>;
      runId: string;
    };
    const { drawn } = await render('completed');
    expect(drawn.title).to.equal(`Last restore: run ${journal.runId}, completed`);
    expect(drawn.lanes).to.deep.equal([...Object.keys(journal.members), 'localhost']);
    for (const host of Object.keys(journal.members)) {
      const phases = drawn.bars.filter((b) => b.host === host).map((b) => b.phase);
      expect(phases).to.deep.equal([
        'copy-snapshot',
        'restore-data',
        'stop-kube-node',
        'stop-kube-master',
        'stop-etcd',
        'swap-data',
        'start-etcd',
        'start-kube-master',
        'start-kube-node',
        'cleanup',
      ]);
    }
    expect(drawn.bars.filter((b) => b.host === 'localhost').map((b) => b.phase)).to.deep.equal(['verify-cluster']);
    expect(drawn.bars.every((b) => b.status === 'ok')).to.equal(true);
    expect(drawn.marks).to.include.members(['api-down', 'api-up', 'finished']);
    expect(drawn.figures[0]).to.match(/^\d+(\.\d)?s$/);
    expect(drawn.figures[1]).to.match(/^\d+(\.\d)?s$/);
  });

  it('a failed restore that rolled back: the failed verification, then the rollback phases, hatched', async () => {
    const { drawn, file } = await render('rolled-back');
    expect(drawn.title).to.match(/, failed and rolled back$/);
    const failed = drawn.bars.filter((b) => b.status === 'failed');
    expect(failed.map((b) => `${b.host}:${b.phase}`)).to.deep.equal(['localhost:verify-cluster']);
    const rollback = drawn.bars.filter((b) => b.kind === 'rollback');
    expect(rollback.map((b) => b.phase)).to.include.members(['stop-etcd', 'revert-data', 'start-etcd']);
    expect(drawn.marks).to.include.members(['failure', 'rollback']);
    expect(drawn.marks.indexOf('failure')).to.be.below(drawn.marks.indexOf('rollback'));
    expect(await readFile(file, 'utf8')).to.contain('Rolled back because: verify-cluster failed');
  });

  it('an interrupted restore: the API down with no way back up yet, marked interrupted', async () => {
    const { drawn } = await render('interrupted');
    expect(drawn.title).to.match(/, interrupted$/);
    expect(drawn.marks).to.include.members(['api-down', 'interrupted']);
    expect(drawn.marks).not.to.include('api-up');
    expect(drawn.bars.some((b) => b.phase === 'start-etcd')).to.equal(false);
    expect(drawn.figures[1]).to.equal('n/a');
  });

  it('the same journal without its event log: phases in order, not to scale, and the page says so', async () => {
    const journalOnly = join(dir, 'copy.journal.json');
    await copyFile(join(fixtures, 'completed.journal.json'), journalOnly);
    const out = join(dir, 'untimed.html');
    const result = await runCliFromSource(['report', inventory, '--journal', journalOnly, '--no-status', '--out', out], {
      env: { CI: '1' },
      timeoutMs: 60_000,
    });
    expect(result.code, tail(result)).to.equal(0);
    expect(await readFile(out, 'utf8')).to.contain('phases are drawn in order, one step each, not to scale');
    const visit = await visitInChromium(out, DRAWN);
    expect(visit.errors).to.deep.equal([]);
  });

  it('an event log of another run is refused', async () => {
    const result = await runCliFromSource(
      [
        'report',
        inventory,
        '--journal',
        join(fixtures, 'completed.journal.json'),
        '--events',
        join(fixtures, 'interrupted.events.jsonl'),
        '--no-status',
        '--out',
        join(dir, 'x.html'),
      ],
      { env: { CI: '1' }, timeoutMs: 60_000 },
    );
    expect(result.code).to.equal(2);
    expect(result.stderr).to.match(/interrupted\.events\.jsonl is the log of run \S+, the journal is run \S+/);
  });
});
