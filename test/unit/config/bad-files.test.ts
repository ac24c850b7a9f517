// Every bad file with the exact message an operator sees: file:line:col, the line, the caret, expected and fix.
import { expect } from 'chai';
import { formatProblems } from '../../../src/config/format-problems.js';
import { isValid, validateFile } from '../../../src/config/validate-files.js';
import { fakeCatalog } from './fake-catalog.js';

const dir = 'test/fixtures/config/bad';

const cases: { file: string; kind: string; expected: string }[] = [
  {
    file: 'inventory-bad-data-dir.yml',
    kind: 'inventory',
    expected: `${dir}/inventory-bad-data-dir.yml:6:26: error: etcd_data_dir "var/lib/etcd" is not an absolute path
  6 |           etcd_data_dir: var/lib/etcd
    |                          ^
  expected: an absolute path such as /var/lib/etcd
${dir}/inventory-bad-data-dir.yml:8:26: error: etcd_data_dir "/var/lib/../etcd" contains ".."
  8 |           etcd_data_dir: /var/lib/../etcd
    |                          ^
  expected: an absolute path such as /var/lib/etcd
${dir}/inventory-bad-data-dir.yml:10:26: error: etcd_data_dir "/var/lib" is a system folder; a restore moves the data dir aside and replaces it
  10 |           etcd_data_dir: /var/lib
     |                          ^
  expected: an absolute path such as /var/lib/etcd
  fix: use a folder of its own, e.g. /var/lib/etcd
`,
  },
  {
    file: 'inventory-duplicate-etcd-name.yml',
    kind: 'inventory',
    expected: `${dir}/inventory-duplicate-etcd-name.yml:10:22: error: etcd_name "etcd-a" is also used by 10.0.0.1
  10 |           etcd_name: etcd-a
     |                      ^
  expected: a name no other member uses
  fix: give every member of group etcd its own etcd_name (the default is etcd-<inventory hostname>)
`,
  },
  {
    file: 'inventory-duplicate-key.yml',
    kind: 'inventory',
    expected: `${dir}/inventory-duplicate-key.yml:7:9: error: duplicate key "10.0.0.1" (first defined on line 5)
  7 |         10.0.0.1:
    |         ^
  fix: keep one of them; YAML (and Ansible) would silently use only one value
`,
  },
  {
    file: 'inventory-duplicate-peer-url.yml',
    kind: 'inventory',
    expected: `${dir}/inventory-duplicate-peer-url.yml:10:25: error: etcd_peer_url https://10.0.0.1:2380 is also used by node-1
  10 |           ansible_host: 10.0.0.1
     |                         ^
  expected: a URL no other member uses
  fix: each member needs its own address (ansible_host) or its own etcd_peer_url
`,
  },
  {
    file: 'inventory-etcd-values.yml',
    kind: 'inventory',
    expected: `${dir}/inventory-etcd-values.yml:6:22: error: etcd member name "etcd 1" is not valid
  6 |           etcd_name: "etcd 1"
    |                      ^
  expected: letters, digits, ".", "_", ":" and "-", starting with a letter or digit
  fix: set etcd_name for this host, e.g. etcd_name: etcd-1
${dir}/inventory-etcd-values.yml:9:28: error: etcd_client_url "https://10.0.0.2" has no port
  9 |           etcd_client_url: https://10.0.0.2
    |                            ^
  expected: a URL such as https://10.0.0.1:2379
${dir}/inventory-etcd-values.yml:10:31: error: etcd_cluster_token "token-b", not "token-a" as for 10.0.0.1
  10 |           etcd_cluster_token: token-b
     |                               ^
  expected: one token shared by every member
  fix: set etcd_cluster_token once, in the vars of group etcd
${dir}/inventory-etcd-values.yml:11:9: error: etcd_cluster_token of 10.0.0.3 is the default "etcd-cluster-0", not "token-a" as for 10.0.0.1
  11 |         10.0.0.3:
     |         ^
  expected: one token shared by every member
  fix: set etcd_cluster_token once, in the vars of group etcd
${dir}/inventory-etcd-values.yml:12:26: error: etcd_peer_url "ftp://10.0.0.3:2380" must use http or https
  12 |           etcd_peer_url: ftp://10.0.0.3:2380
     |                          ^
  expected: a URL such as https://10.0.0.1:2380
${dir}/inventory-etcd-values.yml:13:27: error: etcd_cert_file is set for 10.0.0.3 but etcd_key_file is not
  13 |           etcd_cert_file: /etc/etcd/etcd.pem
     |                           ^
  expected: both etcd_cert_file and etcd_key_file, or neither
  fix: add etcd_key_file
`,
  },
  {
    file: 'inventory-even-members.yml',
    kind: 'inventory',
    expected: `${dir}/inventory-even-members.yml:3:5: warning: group "etcd" has 2 members; an even count tolerates no more failed members than 1 member would
  3 |     etcd:
    |     ^
  fix: use an odd number of members (1, 3, 5 or 7)
`,
  },
  {
    file: 'inventory-ini.yml',
    kind: 'inventory',
    expected: `${dir}/inventory-ini.yml:4:20: error: etcd_name "etcd-a" is also used by 10.0.0.1
  4 | 10.0.0.2 etcd_name=etcd-a
    |                    ^
  expected: a name no other member uses
  fix: give every member of group etcd its own etcd_name (the default is etcd-<inventory hostname>)
${dir}/inventory-ini.yml:5:23: error: ansible_port must be an integer, not the string "twenty-two"
  5 | 10.0.0.3 ansible_port="twenty-two"
    |                       ^
  expected: a TCP port from 1 to 65535
${dir}/inventory-ini.yml:6:23: error: this quote is never closed
  6 | 10.0.0.4 k8s_nodename='cp-d
    |                       ^
  expected: host [key=value ...] with each quote closed on the same line
  fix: close the quote, or escape it with a backslash
${dir}/inventory-ini.yml:13:1: error: [k8s:children] names group "kube_mastr", which is never declared
  13 | kube_mastr
     | ^
  expected: a [kube_mastr] or [kube_mastr:children] section somewhere in the file
  fix: did you mean "kube_master"?
${dir}/inventory-ini.yml:16:15: error: etcd_data_dir "var/lib/etcd" is not an absolute path
  16 | etcd_data_dir=var/lib/etcd
     |               ^
  expected: an absolute path such as /var/lib/etcd
${dir}/inventory-ini.yml:17:16: error: ansible_become must be true or false, not the string "maybe"
  17 | ansible_become=maybe
     |                ^
  expected: true or false
`,
  },
  {
    file: 'inventory-syntax.yml',
    kind: 'inventory',
    expected: `${dir}/inventory-syntax.yml:5:18: error: YAML: All mapping items must start at the same column
  5 |         10.0.0.1:
    |                  ^
  fix: align this line with the other keys of its mapping (use spaces, the same number as its siblings)
`,
  },
  {
    file: 'inventory-unknown-key.yml',
    kind: 'inventory',
    expected: `${dir}/inventory-unknown-key.yml:4:7: error: unknown key "host" in group "etcd"
  4 |       host:
    |       ^
  expected: a group: a mapping with \`hosts\`, \`vars\` and/or \`children\`
  fix: did you mean "hosts"?
`,
  },
  {
    file: 'inventory-wrong-type.yml',
    kind: 'inventory',
    expected: `${dir}/inventory-wrong-type.yml:3:19: error: ansible_port must be an integer, not the string "22a"
  3 |     ansible_port: "22a"
    |                   ^
  expected: a TCP port from 1 to 65535
${dir}/inventory-wrong-type.yml:4:25: error: ansible_connection cannot be the string "paramiko"
  4 |     ansible_connection: paramiko
    |                         ^
  expected: "ssh" or "local" (other Ansible connection plugins are not supported)
${dir}/inventory-wrong-type.yml:8:9: error: hosts must be a mapping or empty, not a list
  8 |         - 10.0.0.1
    |         ^
  expected: a mapping of host names to their variables (\`{}\` or nothing for none)
  fix: write hosts as a mapping (\`10.0.0.1:\` on its own line), not as a list (\`- 10.0.0.1\`)
`,
  },
  {
    file: 'playbook-decimal-mode.yml',
    kind: 'playbook',
    expected: `${dir}/playbook-decimal-mode.yml:6:15: error: mode 600 is read as the decimal number 600 (octal 1130), not as octal 600
  6 |         mode: 600
    |               ^
  expected: an octal file mode such as 0644, preferably quoted
  fix: write mode: '0600' (quoted, as Ansible recommends)
`,
  },
  {
    file: 'playbook-duplicate-key.yml',
    kind: 'playbook',
    expected: `${dir}/playbook-duplicate-key.yml:5:7: error: duplicate key "name" (first defined on line 3)
  5 |       name: second
    |       ^
  fix: keep one of them; YAML (and Ansible) would silently use only one value
`,
  },
  {
    file: 'playbook-missing-hosts.yml',
    kind: 'playbook',
    expected: `${dir}/playbook-missing-hosts.yml:1:3: error: play 1 is missing the required key "hosts"
  1 | - name: back up etcd
    |   ^
  expected: a play: a mapping with \`hosts\` and \`tasks\` or \`roles\`
  fix: add "hosts:"
${dir}/playbook-missing-hosts.yml:4:3: error: unknown key "hots" in play 2
  4 | - hots: etcd
    |   ^
  expected: a play: a mapping with \`hosts\` and \`tasks\` or \`roles\`
  fix: did you mean "hosts"?
`,
  },
  {
    file: 'playbook-missing-role.yml',
    kind: 'playbook',
    expected: `${dir}/playbook-missing-role.yml:3:7: error: role "cluster-restor" not found in ${dir}/roles, ${dir}
  3 |     - cluster-restor
    |       ^
  fix: check the spelling of "cluster-restor", or add the folder that holds it to roles_path in ansible.cfg
`,
  },
  {
    file: 'playbook-module-args.yml',
    kind: 'playbook',
    expected: `${dir}/playbook-module-args.yml:6:16: error: service argument "state" cannot be the string "stop"
  6 |         state: stop
    |                ^
  expected: one of: "started", "stopped", "restarted"
${dir}/playbook-module-args.yml:8:26: error: unknown argument "sate" in module service
  8 |       service: name=etcd sate=started
    |                          ^
  expected: one of: name, state, enabled
  fix: did you mean "state"?
${dir}/playbook-module-args.yml:12:18: error: wait_for argument "timeout" must be an integer, not the string "soon"
  12 |         timeout: soon
     |                  ^
  expected: an integer
`,
  },
  {
    file: 'playbook-two-modules.yml',
    kind: 'playbook',
    expected: `${dir}/playbook-two-modules.yml:5:7: error: a task runs one module, but this one has "service" and "file"
  5 |       file: path=/var/lib/etcd state=absent
    |       ^
  fix: split it into two tasks
`,
  },
  {
    file: 'playbook-unknown-module.yml',
    kind: 'playbook',
    expected: `${dir}/playbook-unknown-module.yml:4:7: error: unknown module "shel"
  4 |       shel: etcdctl endpoint health
    |       ^
  expected: a module name such as shell, command, service, file or copy
  fix: did you mean "shell"?
${dir}/playbook-unknown-module.yml:6:7: error: unknown module "frobnicate"
  6 |       frobnicate: now
    |       ^
  expected: a module name such as shell, command, service, file or copy
  fix: known modules: command, copy, debug, file, service, set_fact, shell, wait_for
`,
  },
  {
    file: 'playbook-unquoted-template.yml',
    kind: 'playbook',
    expected: `${dir}/playbook-unquoted-template.yml:4:14: error: a value that starts with "{{" must be quoted
  4 |         msg: {{ etcd_name }}
    |              ^
  expected: a quoted string, e.g. "{{ name }}"
  fix: wrap the whole value in double quotes; unquoted, YAML reads {{ ... }} as a mapping
`,
  },
  {
    file: 'playbook-unsupported.yml',
    kind: 'playbook',
    expected: `${dir}/playbook-unsupported.yml:2:3: error: environment is not supported by orchestrate
  2 |   environment:
    |   ^
  fix: put assignments in the command (\`shell: FOO=bar cmd\`); values are quoted by orchestrate
${dir}/playbook-unsupported.yml:7:7: error: environment is not supported by orchestrate
  7 |       environment:
    |       ^
  fix: put assignments in the command (\`shell: FOO=bar cmd\`); values are quoted by orchestrate
${dir}/playbook-unsupported.yml:9:7: error: unknown task keyword "registr"
  9 |       registr: health
    |       ^
  expected: one module plus task keywords (name, when, changed_when, failed_when, register, loop, with_items, with_list, ...)
  fix: did you mean "register"?
`,
  },
  {
    file: 'playbook-wrong-type.yml',
    kind: 'playbook',
    expected: `${dir}/playbook-wrong-type.yml:2:17: error: gather_facts must be true or false, not the string "maybe"
  2 |   gather_facts: maybe
    |                 ^
  expected: true or false
${dir}/playbook-wrong-type.yml:3:11: error: serial must be >= 1, not 0
  3 |   serial: 0
    |           ^
  expected: a number of hosts per batch (e.g. 1) or a percentage (e.g. 30%)
${dir}/playbook-wrong-type.yml:7:16: error: retries is not valid: the string "many"
  7 |       retries: many
    |                ^
  expected: a number of retries
${dir}/playbook-wrong-type.yml:8:17: error: register is not valid: the string "2fast"
  8 |       register: 2fast
    |                 ^
  expected: a variable name: letters, digits and _, not starting with a digit
`,
  },
  {
    file: 'playbook-yaml12-mode.yml',
    kind: 'playbook',
    expected: `${dir}/playbook-yaml12-mode.yml:7:15: error: mode 0755 is read as the decimal number 755 (octal 1363), not as octal 0755
  7 |         mode: 0755
    |               ^
  expected: an octal file mode such as 0644, preferably quoted
  fix: write mode: '0755' (quoted, as Ansible recommends)
`,
  },
];

describe('bad configuration files', () => {
  for (const { file, kind, expected } of cases) {
    it(`${file}: reports every problem with its position`, async () => {
      const report = await validateFile(`${dir}/${file}`, fakeCatalog);
      expect(report.kind).to.equal(kind);
      expect(formatProblems(report.problems)).to.equal(expected);
      const warningsOnly = report.problems.every((problem) => problem.severity === 'warning');
      expect(isValid(report)).to.equal(warningsOnly);
    });
  }
});
