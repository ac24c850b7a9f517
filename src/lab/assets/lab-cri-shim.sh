#!/bin/sh
# ---------------------------------------------------------------------------
# orchestrate lab TEST FIXTURE - the per-container shim of the stand-in
# kubelet (the role containerd-shim plays). Not a container runtime. Started
# by the kubelet in a session of its own as `lab-cri-shim CONTAINER-ID`, it
#   - runs the container's argv (/var/lib/lab-cri/containers/ID/argv, one
#     word per line) with a clean environment (PATH of the image first, then
#     the env lines), stdout and stderr to the container's log file;
#   - bind-mounts volumes whose hostPath differs from their mountPath in a
#     private mount namespace of the container (binds: src TAB dst TAB ro);
#   - records "pid starttime" in pid, the start time in started, and when the
#     process ends "exitcode finish-time-ns" in exit (as containerd records
#     a container's exit), so kubelet and crictl see what happened.
# ---------------------------------------------------------------------------
set -u
dir=/var/lib/lab-cri/containers/$1
{ read -r _; read -r _; read -r _; read -r _; read -r _; read -r _; read -r image; read -r _; read -r log; } <"$dir/meta"
finish() { printf '%s %s\n' "$1" "$(date +%s%N)" >"$dir/exit.tmp" && mv -f "$dir/exit.tmp" "$dir/exit"; }

# The image's programs come first in PATH: /var/lib/lab-cri/images/<name without registry and tag>/bin.
name=${image##*/}
name=${name%%[:@]*}
path="/var/lib/lab-cri/images/$name/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

set -- env -i "PATH=$path" "HOSTNAME=$(hostname)"
while IFS= read -r line; do set -- "$@" "$line"; done <"$dir/env"
while IFS= read -r word; do set -- "$@" "$word"; done <"$dir/argv"
if [ -s "$dir/binds" ]; then
  # shellcheck disable=SC2016
  set -- unshare -m --propagation private /bin/sh -c '
    binds=$1; shift
    while IFS="	" read -r src dst ro; do
      mkdir -p "$dst" && mount --bind "$src" "$dst" || exit 126
      [ "$ro" = true ] && mount -o remount,bind,ro "$dst"
    done <"$binds"
    exec "$@"' lab-cri-binds "$dir/binds" "$@"
fi

"$@" </dev/null >>"$log" 2>&1 &
pid=$!
stat=$(cat "/proc/$pid/stat" 2>/dev/null) || stat=""
start=$(printf '%s\n' "${stat##*) }" | cut -d' ' -f20)
printf '%s %s\n' "$pid" "$start" >"$dir/pid.tmp" && mv -f "$dir/pid.tmp" "$dir/pid"
date +%s%N >"$dir/started"
wait "$pid"
finish $?
