// ssh_config files as operators and distributions write them, each host compared with `ssh -G`:
// RHEL's `Match final all` with a crypto-policies Include, macOS keywords under IgnoreUnknown, a
// bastion block, defaults in `Host *` at the end, folders among included files, ports by name.
import { describeOracleCases, type Case } from './ssh-config-oracle.js';

const cases: Case[] = [
  {
    name: "RHEL's system file: Match final all, a crypto-policies Include, GSSAPI and X11 keywords",
    config: [
      'Match final all',
      '  Include $DIR/crypto-policies/openssh.config',
      '  GSSAPIAuthentication yes',
      '  ForwardX11Trusted yes',
      '  SendEnv LANG LC_CTYPE LC_NUMERIC',
      'Host web',
      '  User from-web',
      '',
    ].join('\n'),
    files: {
      'crypto-policies/openssh.config': [
        'Ciphers aes256-gcm@openssh.com,aes256-ctr',
        'MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-256',
        'GSSAPIKexAlgorithms gss-curve25519-sha256-,gss-nistp256-sha256-',
        'KexAlgorithms curve25519-sha256,ecdh-sha2-nistp256',
        'PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-256',
        'HostKeyAlgorithms ssh-ed25519,rsa-sha2-256',
        'CASignatureAlgorithms ssh-ed25519,rsa-sha2-256',
        'RequiredRSASize 2048',
        '',
      ].join('\n'),
    },
    hosts: ['web', 'other'],
  },
  {
    name: 'an operator file: IgnoreUnknown for macOS keywords, a bastion block, Host * defaults last, a folder in conf.d',
    config: [
      'IgnoreUnknown UseKeychain,AddKeysToAgent',
      'Include $DIR/conf.d/*',
      'Host bastion',
      '  HostName bastion.corp.example',
      '  User ops',
      '  Port 2222',
      '  IdentityFile ~/.ssh/bastion_ed25519',
      '  ProxyJump none',
      'Host etcd-* !etcd-legacy',
      '  HostName %h.k8s.internal',
      '  ProxyJump bastion',
      '  User core',
      'Host *',
      '  UseKeychain yes',
      '  AddKeysToAgent yes',
      '  IdentitiesOnly yes',
      '  IdentityFile ~/.ssh/id_ed25519',
      '  ServerAliveInterval 30',
      '  ServerAliveCountMax 4',
      '  StrictHostKeyChecking accept-new',
      '  UserKnownHostsFile ~/.ssh/known_hosts ~/.ssh/known_hosts.corp',
      '  ConnectTimeout 15',
      '',
    ].join('\n'),
    files: {
      'conf.d/10-legacy.conf': 'Host etcd-legacy\n  HostName 10.0.0.9\n  User root\n',
      'conf.d/archive/old.conf': 'Host *\n  User never-read\n',
    },
    hosts: ['bastion', 'etcd-1', 'etcd-legacy', 'other'],
  },
  {
    name: 'Match all after one criterion (Match canonical all, Match host x all), and !all',
    config:
      'Match host x all\n  User hx\nMatch canonical all\n  Port 2201\nMatch !all\n  User never\nMatch final all # comment\n  ConnectTimeout 9\n',
    hosts: ['x', 'y'],
  },
  {
    name: 'ports as ssh reads them: a sign, leading zeros, a service name',
    config: 'Host p1\n  Port +2222\nHost p2\n  Port 000022\nHost p3\n  Port ssh\n',
    hosts: ['p1', 'p2', 'p3'],
  },
  {
    name: "Debian's GSSAPI keywords, GlobalKnownHostsFile, IdentityFile2 (an old name of IdentityFile), keywords only read",
    config: [
      'Host g',
      '  GSSAPIKeyExchange yes',
      '  GSSAPITrustDNS no',
      '  GSSAPIRenewalForcesRekey no',
      '  GlobalKnownHostsFile /etc/ssh/corp_known_hosts ~/.ssh/global',
      '  CheckHostIP yes',
      '  VerifyHostKeyDNS no',
      '  ControlMaster auto',
      '  ControlPath ~/.ssh/cm-%C',
      '  ControlPersist 10m',
      '  LogLevel ERROR',
      '  IdentityFile2 ~/.ssh/old_key',
      'Host n',
      '  GlobalKnownHostsFile none',
      '',
    ].join('\n'),
    hosts: ['g', 'n', 'z'],
  },
  {
    name: 'CanonicalizeHostname without CanonicalDomains: no DNS, but the configuration is read again',
    config: 'CanonicalizeHostname yes\nHost alias\n  HostName Real.Example.org\nHost real.example.org\n  Port 2300\n',
    hosts: ['alias', 'real.example.org'],
  },
  {
    name: 'CanonicalizeHostname with a name that has more dots than CanonicalizeMaxDots: no DNS either',
    config: 'CanonicalizeHostname yes\nCanonicalDomains example.com\nCanonicalizeMaxDots 1\nHost a.b.c\n  Port 2301\n',
    hosts: ['a.b.c'],
  },
  {
    name: "Debian's ServerAliveInterval aliases ProtocolKeepAlives and SetupTimeOut (keepalive-extensions patch)",
    config: [
      'Host k1',
      '  ProtocolKeepAlives 17',
      'Host k2',
      '  SetupTimeOut 1m',
      'Host k3',
      '  ServerAliveInterval 5',
      'Host k3 k4',
      '  setuptimeout none',
      '',
    ].join('\n'),
    hosts: ['k1', 'k2', 'k3', 'k4'],
  },
  {
    name: 'CanonicalizePermittedCNAMEs with CanonicalizeHostname no: the name stays as given',
    config: 'CanonicalizeHostname no\nCanonicalizePermittedCNAMEs *:*\nHost localhost\n  Port 2303\n',
    hosts: ['localhost'],
  },
  {
    name: 'IgnoreUnknown with patterns, set in the block that applies before the unknown keyword',
    config: 'Host i\n  IgnoreUnknown Foo*,UseKeychain\nHost *\n  FooBar 1\n  UseKeychain no\n  User after\n',
    hosts: ['i'],
  },
];

describeOracleCases('ssh_config as operators and distributions write it, compared with ssh -G', cases);
