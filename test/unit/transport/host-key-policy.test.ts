import { expect } from 'chai';
import { acceptNewNotice, choosePolicy, notifyOnce } from '../../../src/transport/host-key-policy.js';

describe('host key policy', () => {
  it('an explicit policy first, then ssh_config; StrictHostKeyChecking no is accept-new, never "accept anything"', () => {
    const table: [Parameters<typeof choosePolicy>, ReturnType<typeof choosePolicy>][] = [
      [[{}, { value: 'ask' }], { policy: 'strict' }],
      [[{}, { value: 'yes' }], { policy: 'strict' }],
      [[{}, { value: 'accept-new', where: 'cfg:3' }], { policy: 'accept-new', reason: 'StrictHostKeyChecking accept-new (cfg:3)' }],
      [[{}, { value: 'no', where: 'cfg:4' }], { policy: 'accept-new', reason: 'StrictHostKeyChecking no (cfg:4) is taken as accept-new' }],
      [[{ acceptNewHostKeys: true }, { value: 'yes' }], { policy: 'accept-new' }],
      [[{ acceptNewHostKeys: false }, { value: 'no' }], { policy: 'accept-new', reason: 'StrictHostKeyChecking no is taken as accept-new' }],
      [[{ policy: 'strict' }, { value: 'no' }], { policy: 'strict' }],
      [
        [{ policy: 'accept-new', reason: 'host_key_checking = False in ansible.cfg' }, { value: 'yes' }],
        { policy: 'accept-new', reason: 'host_key_checking = False in ansible.cfg' },
      ],
    ];
    for (const [args, expected] of table) expect(choosePolicy(...args), JSON.stringify(args)).to.deep.equal(expected);
  });

  it('says a notice once per writer (one writer per run), however often it comes up', () => {
    const runOne: string[] = [];
    const runTwo: string[] = [];
    const writeOne = (message: string): void => {
      runOne.push(message);
    };
    const writeTwo = (message: string): void => {
      runTwo.push(message);
    };
    const notice = acceptNewNotice('host_key_checking = False in ./ansible.cfg', '/root/.ssh/known_hosts');
    for (let i = 0; i < 3; i += 1) notifyOnce(writeOne, notice);
    notifyOnce(writeOne, 'another notice');
    notifyOnce(writeTwo, notice);
    expect(runOne).to.deep.equal([notice, 'another notice']);
    expect(runTwo).to.deep.equal([notice]);
    expect(notice).to.equal(
      'warning: host_key_checking = False in ./ansible.cfg: keys of hosts not yet in /root/.ssh/known_hosts are accepted and recorded there; a host whose key changed is still refused',
    );
  });
});
