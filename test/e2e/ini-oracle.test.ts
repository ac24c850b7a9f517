// Our reading of every INI inventory in test/fixtures/ini against Debian's `ansible-inventory --list`, host
// by host and variable by variable; each file in bad/ must be refused by both. Skipped where Ansible is not
// installed (scripts/setup.sh installs it for the tests).
import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { readInventoryAsWritten } from '../../src/config/inventory.js';
import type { Inventory } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';
import { ansibleInventoryAvailable, ansibleInventoryList, type OracleReading } from '../helpers/ansible-oracle.js';

const corpus = 'test/fixtures/ini';
const goodFiles = readdirSync(corpus).filter((name) => statSync(path.join(corpus, name)).isFile());
const badFiles = readdirSync(path.join(corpus, 'bad')).map((name) => path.join('bad', name));

/**
 * What Ansible's value becomes in orchestrate, where orchestrate deliberately differs (documented in
 * docs/pending/inventories.md): connection variables Ansible converts when it uses them are converted on
 * reading, and a relative key path is taken relative to the inventory's folder.
 */
function asOrchestrateReadsIt(name: string, value: unknown, dir: string): unknown {
  if (typeof value !== 'string') return value;
  if (name === 'ansible_become') {
    const word = value.toLowerCase();
    if (['yes', 'on', '1', 'true', 't', 'y'].includes(word)) return true;
    if (['no', 'off', '0', 'false', 'f', 'n'].includes(word)) return false;
  }
  if (['ansible_port', 'ansible_ssh_port', 'ansible_group_priority'].includes(name) && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  if (name === 'ansible_ssh_private_key_file' || name === 'ansible_private_key_file') {
    return path.resolve(dir, value.startsWith('~/') ? path.join(homedir(), value.slice(2)) : value);
  }
  return value;
}

describe('INI inventories read as ansible-inventory reads them', function () {
  this.timeout(240_000);
  const readings = new Map<string, OracleReading>();

  before(async function () {
    if (!ansibleInventoryAvailable()) this.skip();
    const files = [...goodFiles, ...badFiles];
    // Two at a time: each ansible-inventory is a Python start-up of about a second on this machine.
    const queue = [...files];
    const worker = async (): Promise<void> => {
      for (let file = queue.shift(); file !== undefined; file = queue.shift())
        readings.set(file, await ansibleInventoryList(path.join(corpus, file)));
    };
    await Promise.all([worker(), worker()]);
  });

  for (const file of goodFiles) {
    it(`${file}: every host, group and variable`, () => {
      const oracle = readings.get(file);
      if (!oracle?.ok) throw new Error(`ansible-inventory refused ${file}: ${oracle ? oracle.stderr : 'no reading'}`);
      const fullPath = path.join(corpus, file);
      const ours: Inventory = readInventoryAsWritten(fullPath, readFileSync(fullPath, 'utf8'));
      expect([...ours.hosts.keys()].sort(), 'hosts').to.deep.equal([...oracle.hosts.keys()].sort());
      for (const [name, expected] of oracle.hosts) {
        const host = ours.hosts.get(name);
        const groups = new Set(host?.groups);
        // Ansible lists groups with members only; orchestrate also knows `ungrouped` and empty groups.
        expect([...groups].filter((g) => g !== 'ungrouped' || expected.groups.has('ungrouped')).sort(), `groups of ${name}`).to.deep.equal(
          [...expected.groups].sort(),
        );
        const wanted = Object.fromEntries(Object.entries(expected.vars).map(([key, value]) => [key, asOrchestrateReadsIt(key, value, ours.dir)]));
        expect(host?.vars, `variables of ${name}`).to.deep.equal(wanted);
      }
    });
  }

  for (const file of badFiles) {
    it(`${file}: refused by both, with a located error`, () => {
      const oracle = readings.get(file);
      expect(oracle?.ok, `ansible-inventory accepted ${file}`).to.equal(false);
      const fullPath = path.join(corpus, file);
      let error: unknown;
      try {
        readInventoryAsWritten(fullPath, readFileSync(fullPath, 'utf8'));
      } catch (caught) {
        error = caught;
      }
      expect(error).to.be.instanceOf(ConfigError);
      const problems = (error as ConfigError).problems.filter((p) => p.severity === 'error');
      expect(problems.length).to.be.greaterThan(0);
      for (const problem of problems) expect(problem.loc?.file).to.equal(fullPath);
    });
  }
});
