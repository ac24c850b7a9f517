#!/bin/sh
# Prepares a fresh Debian machine for orchestrate: npm packages, Debian packages (as root), the compiled CLI.
# Called by `npm run demo`, `npm test` (--test: also chromium) and `npm run bench` (--bench); fast when everything is already there.
set -eu
cd "$(dirname "$0")/.."

want_bench=false
want_test=false
[ "${1:-}" = "--bench" ] && want_bench=true
[ "${1:-}" = "--test" ] && want_test=true

say() { printf 'setup: %s\n' "$*" >&2; }

# Debian packages: the lab needs real sshd and etcd; Ansible is the oracle of the inventory tests (ansible-inventory)
# and the benchmark's comparison (ansible-playbook).
missing=""
command -v etcd >/dev/null 2>&1 || missing="$missing etcd-server"
command -v etcdctl >/dev/null 2>&1 || missing="$missing etcd-client"
[ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
command -v ssh-keygen >/dev/null 2>&1 || missing="$missing openssh-client"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v sudo >/dev/null 2>&1 || missing="$missing sudo"
command -v socat >/dev/null 2>&1 || missing="$missing socat"   # the bastion of `lab up --bastion`
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"   # its network namespace
# age: the remote-copy tests check that our encrypted snapshots decrypt with the reference command-line tool.
command -v age >/dev/null 2>&1 || missing="$missing age"
# Debian's chromium, headless, loads the HTML report in the end-to-end tests (never a browser downloaded by a tool).
if $want_test; then
  [ -x /usr/bin/chromium ] || missing="$missing chromium"
  # nft: the fault matrix drops the packets of one lab member (test/helpers/member-unreachable.ts).
  command -v nft >/dev/null 2>&1 || missing="$missing nftables"
fi
if $want_bench || $want_test; then
  { command -v ansible-playbook && command -v ansible-inventory; } >/dev/null 2>&1 || missing="$missing ansible"
fi
if $want_bench; then
  [ -x /usr/bin/time ] || missing="$missing time"   # GNU time: peak memory of the backup benchmark
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    say "missing Debian packages:$missing"
    say "install them as root: apt-get install -y$missing"
    exit 1
  fi
fi

# etcd 3.5 for `lab up --etcd 3.5` (Debian 13's packages unpacked into a folder of the lab's own; apt sources untouched).
sh scripts/lab-etcd35.sh

# npm packages, when node_modules is absent or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund >/dev/null; else npm install --no-audit --no-fund >/dev/null; fi
fi

# The compiled CLI (dist/), then the same bundled into dist/orchestrate.cjs, which bin/orchestrate prefers.
say "compiling"
npx tsc -p tsconfig.build.json
# ajv's standalone code for every schema, so that start-up neither loads ajv nor compiles (src/config/compiled-validators.ts).
node scripts/build-validators.mjs
# One file instead of ~200 small modules, and V8's compiled code for it: a faster start (scripts/bundle.mjs
# says why). The code cache is made with the flags bin/orchestrate gives Node, or it would not be used.
node scripts/bundle.mjs
node --max-semi-space-size=2 scripts/build-code-cache.mjs
