import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExtraVars } from '../../../src/engine/extra-vars.js';
import { formatPlan, formatRecap, resultLines } from '../../../src/engine/reporters/format.js';
import { toRecords } from '../../../src/engine/reporters/json.js';
import { PlainReporter } from '../../../src/engine/reporters/plain.js';
import { serialBatches } from '../../../src/engine/selection.js';
import type { HostTaskResult, RunSummary } from '../../../src/engine/types.js';
import { UsageError } from '../../../src/errors.js';

const loc = { file: '/p/site.yml', line: 7, col: 7 };
const ok: HostTaskResult = { host: '127.0.0.1', status: 'ok', durationMs: 123, result: {}, display: {}, steps: [] };
const failed: HostTaskResult = {
  host: '127.0.0.2',
  delegatedTo: 'localhost',
  status: 'failed',
  msg: 'non-zero return code',
  ignored: false,
  durationMs: 2000,
  result: {},
  display: { rc: 2, stderrTail: 'line1\nline2', stdoutTail: 'out' },
  steps: [],
};
const summary: RunSummary = {
  exitCode: 3,
  interrupted: false,
  dryRun: false,
  durationMs: 1500,
  stats: {
    '127.0.0.1': { ok: 2, changed: 1, failed: 0, skipped: 0, unreachable: 0, ignored: 0 },
    '127.0.0.2': { ok: 0, changed: 0, failed: 1, skipped: 0, unreachable: 0, ignored: 0 },
  },
  hostFacts: {},
  results: [],
};

describe('plain output', () => {
  it('one timestamped line per host result', () => {
    const at = new Date(2026, 0, 1, 12, 0, 1, 123);
    expect(resultLines('Take snapshot', 'shell', ok, at)).to.deep.equal(['12:00:01.123 [127.0.0.1] ok: Take snapshot (0.12s)']);
    expect(resultLines('Check', 'shell', failed, at)).to.deep.equal([
      '12:00:01.123 [127.0.0.2 -> localhost] FAILED: Check (2.00s) - non-zero return code (rc=2)',
      '    stderr: line1\n            line2',
    ]);
  });

  it('the recap has a line per host and the exit code', () => {
    const text = formatRecap(summary);
    expect(text).to.match(/127\.0\.0\.1\s+: ok=2\s+changed=1\s+unreachable=0\s+failed=0\s+skipped=0\s+ignored=0/);
    expect(text).to.match(/127\.0\.0\.2\s+: ok=0 .*failed=1/);
    expect(text).to.contain('(exit code 3)');
  });

  it('prints a run_once result once, not again for every host that shares it', () => {
    const out: string[] = [];
    const reporter = new PlainReporter(false, { out: (t) => out.push(t), err: (t) => out.push(t) });
    reporter.event({ type: 'host_result', play: 'p', task: 'once', module: 'shell', loc, result: ok });
    reporter.event({
      type: 'host_result',
      play: 'p',
      task: 'once',
      module: 'shell',
      loc,
      result: { ...ok, host: '127.0.0.2', runOnceFrom: '127.0.0.1' },
    });
    expect(out).to.have.length(1);
    expect(out[0]).to.contain('[127.0.0.1] ok: once');
  });

  it('dry-run shows only the plan and the recap', () => {
    const out: string[] = [];
    const reporter = new PlainReporter(true, { out: (t) => out.push(t), err: (t) => out.push(t) });
    reporter.event({ type: 'host_result', play: 'p', task: 't', module: 'shell', loc, result: ok });
    expect(out).to.deep.equal([]);
    reporter.event({
      type: 'recap',
      summary: {
        ...summary,
        dryRun: true,
        plan: [
          {
            host: 'h',
            tasks: [
              {
                play: 'p',
                task: 'restart',
                module: 'service',
                loc,
                status: 'changed',
                planned: true,
                steps: [{ kind: 'exec', text: 'systemctl restart etcd', readOnly: false, ran: false, on: 'h' }],
              },
            ],
          },
        ],
      },
    });
    expect(out.join('')).to.contain('   1. restart [service]: would change\n        $ systemctl restart etcd');
  });

  it('plan lines say which checks ran and where calls run', () => {
    const text = formatPlan([
      {
        host: '10.0.0.1',
        tasks: [
          {
            play: 'p',
            task: 'probe',
            module: 'service',
            loc,
            status: 'ok',
            planned: false,
            steps: [
              { kind: 'exec', text: 'systemctl is-active etcd', readOnly: true, ran: true, on: '10.0.0.1' },
              { kind: 'call', text: 'etcd maintenance.status', readOnly: false, ran: false, on: 'localhost' },
            ],
          },
        ],
      },
    ]);
    expect(text).to.contain('(checked) systemctl is-active etcd\n');
    expect(text).to.contain('> etcd maintenance.status [on the deploy host]');
  });
});

describe('json output', () => {
  it('host_result carries the fields CI systems read', () => {
    const [record] = toRecords({ type: 'host_result', play: 'p', task: 'Check', module: 'shell', loc, result: failed });
    expect(record).to.deep.equal({
      event: 'host_result',
      play: 'p',
      task: 'Check',
      module: 'shell',
      host: '127.0.0.2',
      status: 'failed',
      duration_ms: 2000,
      changed: false,
      rc: 2,
      stdout_tail: 'out',
      stderr_tail: 'line1\nline2',
      msg: 'non-zero return code',
      ignored: false,
      delegated_to: 'localhost',
    });
  });

  it('a dry-run recap is preceded by the plan', () => {
    const records = toRecords({ type: 'recap', summary: { ...summary, dryRun: true, plan: [] } });
    expect(records.map((r) => r.event)).to.deep.equal(['plan', 'recap']);
    expect(records[1]).to.include({ exit_code: 3, dry_run: true });
  });
});

describe('extra vars and batches', () => {
  it('-e key=value, JSON and @file, later wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'extra-'));
    try {
      writeFileSync(join(dir, 'vars.yml'), 'a: from-file\nlist: [1, 2]\n');
      const vars = await parseExtraVars(['a=1 b="two words"', '{"c": true}', '@vars.yml'], dir);
      expect(vars).to.deep.equal({ a: 'from-file', b: 'two words', c: true, list: [1, 2] });
      let error: unknown;
      await parseExtraVars(['novalue'], dir).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(UsageError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serial: counts and percentages', () => {
    const hosts = ['a', 'b', 'c', 'd', 'e'];
    expect(serialBatches(hosts, undefined)).to.deep.equal([hosts]);
    expect(serialBatches(hosts, 2)).to.deep.equal([['a', 'b'], ['c', 'd'], ['e']]);
    expect(serialBatches(hosts, '40%')).to.deep.equal([['a', 'b'], ['c', 'd'], ['e']]);
    expect(serialBatches(hosts, '10%')).to.have.length(5);
  });
});
