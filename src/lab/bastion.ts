// The bastion of a `--bastion` lab: the one host the deploy host can reach, with a foot in the lab's network
// namespace. socat listens on the bastion's address in the deploy host's network and hands each accepted
// connection, as its standard input and output, to an `sshd -i` that it starts inside the lab's namespace
// (inetd style): the bastion's sshd answers the deploy host and opens its forwards among the members, as a
// bastion with one interface on each network does. Its sshd logs at DEBUG1, which records every forward
// ("server_request_direct_tcpip: originator ... target ...") in the bastion's log.
import type { LabHostPaths } from './paths.js';
import { labSshdConfigPath } from './host-files.js';
import { writeUpperFile } from './upper-files.js';

export const bastionSshdPath = '/usr/local/sbin/lab-bastion-sshd';
export const bastionNetnsInHost = '/run/netns/lab';
export const bastionSshdExtra = ['LogLevel DEBUG1', 'AllowTcpForwarding yes', 'PermitOpen any'];

export function bastionProgram(address: string): string[] {
  return ['/usr/bin/socat', `TCP-LISTEN:22,bind=${address},reuseaddr,fork,max-children=64`, `EXEC:${bastionSshdPath},nofork`];
}

export async function writeBastionFiles(host: LabHostPaths): Promise<void> {
  const script = `#!/bin/sh
# orchestrate lab TEST FIXTURE: the bastion's sshd for one connection (socat passes it on stdin/stdout),
# started inside the lab's network namespace so that its forwards reach the members.
exec nsenter --net=${bastionNetnsInHost} /usr/sbin/sshd -i -e -f ${labSshdConfigPath}
`;
  await writeUpperFile(host.upperDir, bastionSshdPath, script, { mode: 0o755 });
}
