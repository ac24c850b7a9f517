// Which ssh_config keywords exist, and what orchestrate does with those it does not honour itself.
// OpenSSH stops at a keyword it does not know (unless IgnoreUnknown names it): a typo such as `Hostnmae`
// must not be skipped silently, since the host would then be reached under another name.

/**
 * Keywords of OpenSSH 7.0 to 10.x (readconf.c), Debian's GSSAPI key exchange patch and Apple's
 * UseKeychain, that orchestrate reads without acting on: they only tune what orchestrate does its own way
 * (forwarding, multiplexing, algorithms, logging) or concern interactive use.
 */
const ignoredKeywords = `
addkeystoagent addressfamily afstokenpassing batchmode bindaddress bindinterface canonicalizefallbacklocal
casignaturealgorithms challengeresponseauthentication channeltimeout checkhostip cipher ciphers
clearallforwardings compression compressionlevel connectionattempts controlmaster controlpath controlpersist
dsaauthentication dynamicforward enableescapecommandline enablesshkeysign escapechar exitonforwardfailure
fallbacktorsh fingerprinthash forkafterauthentication forwardagent forwardx11 forwardx11timeout
forwardx11trusted gatewayports globalknownhostsfile2 gssapiauthentication gssapiclientidentity
gssapidelegatecredentials gssapikexalgorithms gssapikeyexchange gssapirenewalforcesrekey gssapiserveridentity
gssapitrustdns hashknownhosts hostbasedacceptedalgorithms hostbasedalgorithms hostbasedauthentication
hostbasedkeytypes hostkeyalgorithms ipqos kbdinteractiveauthentication kbdinteractivedevices
keepalive kerberosauthentication kerberostgtpassing kexalgorithms localcommand localforward loglevel logverbose
macs nohostauthenticationforlocalhost numberofpasswordprompts obscurekeystroketiming passwordauthentication
permitlocalcommand permitremoteopen preferredauthentications protocol proxyusefdpass pubkeyacceptedalgorithms
pubkeyacceptedkeytypes pubkeyauthentication rekeylimit remotecommand remoteforward requesttty requiredrsasize
rhostsauthentication rhostsrsaauthentication rsaauthentication securitykeyprovider sendenv sessiontype setenv
skeyauthentication stdinnull streamlocalbindmask streamlocalbindunlink syslogfacility tcpkeepalive
tisauthentication tunnel tunneldevice updatehostkeys useprivilegedport userknownhostsfile2 usekeychain
useroaming usersh verifyhostkeydns versionaddendum visualhostkey warnweakcrypto xauthlocation`;

export const ignoredSshKeywords: ReadonlySet<string> = new Set(ignoredKeywords.split(/\s+/).filter((word) => word !== ''));

/** Keywords read elsewhere (ssh-config.ts, ssh-config-options.ts), for suggestions after a typo. */
export const readSshKeywords = [
  'host',
  'match',
  'include',
  'hostname',
  'user',
  'port',
  'identityfile',
  'identityfile2',
  'identitiesonly',
  'identityagent',
  'certificatefile',
  'pkcs11provider',
  'smartcarddevice',
  'proxyjump',
  'proxycommand',
  'connecttimeout',
  'serveraliveinterval',
  'protocolkeepalives',
  'setuptimeout',
  'serveralivecountmax',
  'userknownhostsfile',
  'globalknownhostsfile',
  'stricthostkeychecking',
  'hostkeyalias',
  'knownhostscommand',
  'revokedhostkeys',
  'canonicalizehostname',
  'canonicaldomains',
  'canonicalizemaxdots',
  'canonicalizepermittedcnames',
  'ignoreunknown',
  'refuseconnection',
  'tag',
] as const;

/**
 * Keywords orchestrate cannot honour and that would change which host key is trusted or which
 * credentials are offered: refused (file:line, the fix) when their first value for a host is not `none`.
 */
export type RefusedKey = 'hostkeyalias' | 'knownhostscommand' | 'revokedhostkeys' | 'certificatefile' | 'pkcs11provider';

export const refusedSshKeywords: Readonly<Record<RefusedKey, { name: string; why: string; hint: string }>> = {
  hostkeyalias: {
    name: 'HostKeyAlias',
    why: 'orchestrate looks host keys up under the host name and port only, so the key pinned under the alias would not be checked',
    hint: 'remove HostKeyAlias for this host and record its key under its name (ssh-keyscan -p PORT HOST >> ~/.ssh/known_hosts)',
  },
  knownhostscommand: {
    name: 'KnownHostsCommand',
    why: 'orchestrate never runs commands from ssh_config, so the keys it lists would not be checked',
    hint: 'put the host keys into a known_hosts file (UserKnownHostsFile, or --known-hosts)',
  },
  revokedhostkeys: {
    name: 'RevokedHostKeys',
    why: 'orchestrate cannot read a revocation list, so a revoked key could be accepted',
    hint: 'mark the revoked keys with @revoked in known_hosts instead, or remove the keys from known_hosts',
  },
  certificatefile: {
    name: 'CertificateFile',
    why: 'orchestrate cannot present SSH certificates and would log in with other credentials',
    hint: 'exclude the hosts orchestrate reaches from that block (e.g. Host * !etcd-*) and give them a key the server accepts without a certificate',
  },
  pkcs11provider: {
    name: 'PKCS11Provider (or SmartcardDevice)',
    why: 'orchestrate cannot use PKCS#11 tokens and would log in with other credentials',
    hint: 'load the token keys into ssh-agent (ssh-add -s PROVIDER) and remove PKCS11Provider for these hosts',
  },
};
