#!/bin/bash
# ---------------------------------------------------------------------------
# orchestrate lab TEST FIXTURE - a stand-in for kubelet inside a lab host.
# It is NOT kubelet and must never be installed on a real machine. It does
# the one part of kubelet's job that etcd backup and restore meet: static
# pods. Every second it reads the manifests in staticPodPath (from
# --config, default /etc/kubernetes/manifests; files starting with "." are
# skipped, as kubelet does) and makes the running containers match:
#   - a manifest that appears starts its pod's containers; one that changes
#     replaces the pod (the old one is stopped first); one that disappears
#     stops them: SIGTERM, then SIGKILL after terminationGracePeriodSeconds
#     (default 30);
#   - a container that exits is restarted with kubelet's back-off (at once,
#     then 10 s, 20 s, 40 s ... 300 s; reset after 10 minutes without a
#     crash), so a bad flag gives a crash loop;
#   - hostPath volumes: DirectoryOrCreate/FileOrCreate are created, a
#     missing Directory/File keeps the pod from starting; a volume whose
#     hostPath differs from its mountPath is bind-mounted in a private mount
#     namespace of the container (the only isolation a container gets here);
#   - containers run under a shim (lab-cri-shim, like containerd's shim) in
#     sessions of their own, so stopping this unit leaves them running, as
#     stopping the real kubelet does; a restarted kubelet adopts them.
# Container state lives in /var/lib/lab-cri (read by the stand-in crictl);
# every decision is logged to /var/log/lab-kubelet.log as
# "<UTC time with ms> <event> key=value ..." for tests to read.
# ---------------------------------------------------------------------------
set -u
shopt -s nullglob

config=/var/lib/kubelet/config.yaml
while [ $# -gt 0 ]; do
  case $1 in
    --config=*) config=${1#--config=} ;;
    --config) shift; config=${1:-$config} ;;
  esac
  shift
done

cri=/var/lib/lab-cri
log_file=/var/log/lab-kubelet.log
parser=/usr/lib/lab-cri/parse-manifests.mjs
shim=/usr/lib/lab-cri/lab-cri-shim
node_bin=${LAB_CRI_NODE:-node}
node_name=${HOSTNAME,,}
manifest_dir=/etc/kubernetes/manifests
if [ -r "$config" ]; then
  while IFS=': ' read -r key value _; do
    [ "$key" = staticPodPath ] && [ -n "$value" ] && manifest_dir=$value
  done <"$config"
fi
mkdir -p "$cri/pods" "$cri/containers" "$cri/specs" /var/log/pods
backoff_base=10 backoff_max=300 backoff_reset=600 gc_every=60

# A pipe nobody writes to: `read -t` on it sleeps without starting a process.
sleeper=$(mktemp -u /run/lab-kubelet-sleep.XXXXXX)
mkfifo -m 600 "$sleeper" && exec 9<>"$sleeper" && rm -f "$sleeper"
pause() { read -r -t "$1" -u 9 _ || :; }

now_ns() { local t=$EPOCHREALTIME; printf '%s%s000\n' "${t%.*}" "${t#*.}"; }
log() {
  local t=$EPOCHREALTIME stamp frac
  frac=${t#*.}
  TZ=UTC printf -v stamp '%(%Y-%m-%dT%H:%M:%S)T' "${t%.*}"
  printf '%s.%sZ %s\n' "$stamp" "${frac:0:3}" "$*" >>"$log_file"
}
new_id() { printf '%08x%08x%08x%08x%08x%08x%08x%08x' $SRANDOM $SRANDOM $SRANDOM $SRANDOM $SRANDOM $SRANDOM $SRANDOM $SRANDOM; }

# "pid starttime" of a container's process when that process still runs, else fails.
container_pid() {
  local file=$cri/containers/$1/pid pid start stat
  [ -r "$file" ] || return 1
  read -r pid start <"$file" || return 1
  [ -r "/proc/$pid/stat" ] || return 1
  read -r stat <"/proc/$pid/stat" || return 1
  stat=${stat##*) }
  set -- $stat
  [ "$1" != Z ] && [ "${20}" = "$start" ] || return 1
  printf '%s\n' "$pid"
}

# running | exited | created | gone
container_state() {
  local dir=$cri/containers/$1
  [ -d "$dir" ] || { echo gone; return; }
  [ -e "$dir/exit" ] && { echo exited; return; }
  if [ -e "$dir/pid" ]; then
    if container_pid "$1" >/dev/null; then echo running; else echo exited; fi
    return
  fi
  echo created
}

# SIGTERM, then SIGKILL after the grace period; waits until the shim recorded the exit.
stop_container() {
  local cid=$1 grace=$2 why=$3 pid waited=0
  pid=$(container_pid "$cid") || return 0
  log "container-stopping id=$cid pid=$pid signal=TERM grace=${grace}s reason=$why"
  kill -TERM "$pid" 2>/dev/null
  while container_pid "$cid" >/dev/null && [ $waited -lt $((grace * 10)) ]; do pause 0.1; waited=$((waited + 1)); done
  if container_pid "$cid" >/dev/null; then
    log "container-killing id=$cid pid=$pid signal=KILL"
    kill -KILL "$pid" 2>/dev/null
  fi
  waited=0
  while [ ! -e "$cri/containers/$cid/exit" ] && [ $waited -lt 50 ]; do pause 0.1; waited=$((waited + 1)); done
  [ -e "$cri/containers/$cid/exit" ] || printf '137 %s\n' "$(now_ns)" >"$cri/containers/$cid/exit"
  log "container-stopped id=$cid"
}

# Parses every manifest whose checksum changed (one node process for all of them) into $cri/specs.
declare -A seen_sums=()
scan_manifests() {
  local files=("$manifest_dir"/*) sums line file changed=() current=()
  declare -A now_sums=()
  if [ ${#files[@]} -gt 0 ]; then
    sums=$(cksum -- "${files[@]}" 2>/dev/null)
    while IFS= read -r line; do
      file=${line#* * }
      [ -f "$file" ] || continue
      now_sums[$file]=$line
      current+=("$file")
      [ "${seen_sums[$file]:-}" = "$line" ] || changed+=("$file")
    done <<<"$sums"
  fi
  for file in "${!seen_sums[@]}"; do
    if [ -z "${now_sums[$file]:-}" ]; then
      log "manifest-removed file=$file"
      rm -f "$cri/specs/$(spec_name "$file")"
    fi
  done
  if [ ${#changed[@]} -gt 0 ]; then
    for file in "${changed[@]}"; do log "manifest-read file=$file"; done
    "$node_bin" "$parser" "$cri/specs" "$node_name" "${changed[@]}" >>"$log_file" 2>&1 ||
      log "manifest-parser-failed status=$?"
  fi
  seen_sums=()
  for file in "${current[@]}"; do seen_sums[$file]=${now_sums[$file]}; done
}
spec_name() { local name=${1//\//_}; printf '%s.spec\n' "$name"; }

# Desired pods: uid -> spec file, from the specs of the manifests present now.
declare -A desired=()
load_desired() {
  local file spec uid kind rest
  desired=()
  for file in "${!seen_sums[@]}"; do
    spec=$cri/specs/$(spec_name "$file")
    [ -r "$spec" ] || continue
    IFS=$'\t' read -r kind uid rest <"$spec" || continue
    [ "$kind" = uid ] && desired[$uid]=$spec
  done
}

# Sandboxes on disk: pod id -> uid, and whether each still runs (state file "ready").
pod_of_uid() {
  local dir uid
  for dir in "$cri"/pods/*; do
    [ -r "$dir/state" ] && [ "$(<"$dir/state")" = ready ] || continue
    read -r uid <"$dir/uid"
    [ "$uid" = "$1" ] && { printf '%s\n' "${dir##*/}"; return 0; }
  done
  return 1
}

# A pod of this full name still has a running container (an older version of it is terminating).
name_busy() {
  local dir cdir name
  for cdir in "$cri"/containers/*; do
    read -r name <"$cdir/podname" 2>/dev/null || continue
    [ "$name" = "$1" ] || continue
    [ "$(container_state "${cdir##*/}")" = running ] && return 0
  done
  return 1
}

# The newest container of (pod id, container name), by attempt.
latest_container() {
  local cdir best="" best_attempt=-1 pod name attempt
  for cdir in "$cri"/containers/*; do
    { read -r pod; read -r name; read -r attempt; } <"$cdir/meta" 2>/dev/null || continue
    [ "$pod" = "$1" ] && [ "$name" = "$2" ] || continue
    if [ "$attempt" -gt "$best_attempt" ]; then best=${cdir##*/} best_attempt=$attempt; fi
  done
  [ -n "$best" ] && printf '%s %s\n' "$best" "$best_attempt"
}

# Volumes: creates what the hostPath type asks for; fails (and says why) when a required path is missing.
prepare_volumes() {
  local spec=$1 kind a b c d quiet=${volume_failed[$2]:-}
  while IFS=$'\t' read -r kind a b c d; do
    [ "$kind" = mount ] || continue
    case $c in
      DirectoryOrCreate) mkdir -p "$b" ;;
      FileOrCreate) [ -e "$b" ] || { mkdir -p "$(dirname "$b")" && : >>"$b"; } ;;
      Directory) [ -d "$b" ] || { [ -n "$quiet" ] || log "volume-failed path=$b type=Directory reason=missing"; return 1; } ;;
      File) [ -f "$b" ] || { [ -n "$quiet" ] || log "volume-failed path=$b type=File reason=missing"; return 1; } ;;
      *) [ -e "$b" ] || { [ -n "$quiet" ] || log "volume-failed path=$b type=${c:-unset} reason=missing"; return 1; } ;;
    esac
  done <"$spec"
}

create_sandbox() {
  local uid=$1 spec=$2 pod_id kind name ns grace
  pod_id=$(new_id)
  IFS=$'\t' read -r kind name ns grace < <(grep -m1 $'^pod\t' "$spec")
  mkdir -p "$cri/pods/$pod_id"
  printf '%s\n' "$uid" >"$cri/pods/$pod_id/uid"
  printf '%s\n%s\n%s\n%s\n' "$name-$node_name" "$ns" "$(now_ns)" "${grace:-30}" >"$cri/pods/$pod_id/meta"
  cp "$spec" "$cri/pods/$pod_id/spec"
  echo ready >"$cri/pods/$pod_id/state"
  log "sandbox-created pod=$name-$node_name namespace=$ns uid=$uid id=$pod_id"
  printf '%s\n' "$pod_id"
}

# Writes one container's files from the spec and starts it under the shim.
start_container() {
  local pod_id=$1 cname=$2 attempt=$3 spec=$cri/pods/$1/spec cid dir kind a b c d in_container=no
  local podname ns created grace uid image=""
  { read -r podname; read -r ns; read -r created; read -r grace; } <"$cri/pods/$pod_id/meta"
  read -r uid <"$cri/pods/$pod_id/uid"
  cid=$(new_id)
  dir=$cri/containers/$cid
  mkdir -p "$dir"
  : >"$dir/argv"; : >"$dir/env"; : >"$dir/binds"; : >"$dir/mounts"
  while IFS=$'\t' read -r kind a b c d; do
    case $kind in
      container) if [ "$a" = "$cname" ]; then in_container=yes image=$b; else in_container=no; fi ;;
      arg) [ $in_container = yes ] && printf '%s\n' "$a" >>"$dir/argv" ;;
      env) [ $in_container = yes ] && printf '%s\n' "$a" >>"$dir/env" ;;
      mount)
        if [ $in_container = yes ]; then
          printf '%s\t%s\t%s\n' "$a" "$b" "$d" >>"$dir/mounts"
          [ "$a" != "$b" ] && printf '%s\t%s\t%s\n' "$b" "$a" "$d" >>"$dir/binds"
        fi
        ;;
    esac
  done <"$spec"
  local logdir=/var/log/pods/${ns}_${podname}_${uid}/$cname
  mkdir -p "$logdir"
  printf '%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n' "$pod_id" "$cname" "$attempt" "$uid" "$podname" "$ns" "$image" "$(now_ns)" "$logdir/$attempt.log" >"$dir/meta"
  printf '%s\n' "$podname" >"$dir/podname"
  setsid "$shim" "$cid" </dev/null >/dev/null 2>&1 &
  log "container-created pod=$podname container=$cname id=$cid attempt=$attempt"
}

declare -A backoff=() backoff_at=() waiting_logged=()
# Starts or restarts one container of a pod when it is due.
sync_container() {
  local pod_id=$1 uid=$2 cname=$3 latest cid attempt state key=$2/$3 finished now delay
  latest=$(latest_container "$pod_id" "$cname")
  if [ -z "$latest" ]; then start_container "$pod_id" "$cname" 0; return; fi
  read -r cid attempt <<<"$latest"
  state=$(container_state "$cid")
  [ "$state" = exited ] || return 0
  if [ -z "${waiting_logged[$cid]:-}" ] && [ -r "$cri/containers/$cid/exit" ]; then
    log "container-exited pod=$(<"$cri/containers/$cid/podname") container=$cname id=$cid attempt=$attempt code=$(cut -d' ' -f1 "$cri/containers/$cid/exit")"
  fi
  read -r _ finished <"$cri/containers/$cid/exit" 2>/dev/null || finished=$(now_ns)
  now=$(now_ns)
  if [ -n "${backoff_at[$key]:-}" ] && [ $(((now - ${backoff_at[$key]}) / 1000000000)) -gt $backoff_reset ]; then unset "backoff[$key]"; fi
  delay=${backoff[$key]:-0}
  if [ $(((now - finished) / 1000000000)) -lt "$delay" ]; then
    [ -n "${waiting_logged[$cid]:-}" ] || log "back-off container=$cname id=$cid restart-in=${delay}s"
    waiting_logged[$cid]=1
    return 0
  fi
  if [ "$delay" -eq 0 ]; then backoff[$key]=$backoff_base; else backoff[$key]=$((delay * 2 > backoff_max ? backoff_max : delay * 2)); fi
  backoff_at[$key]=$now
  unset "waiting_logged[$cid]"
  start_container "$pod_id" "$cname" $((attempt + 1))
  # kubelet keeps one dead container per container for its logs; older ones go.
  remove_older "$pod_id" "$cname" "$attempt"
}

remove_older() {
  local cdir pod name attempt
  for cdir in "$cri"/containers/*; do
    { read -r pod; read -r name; read -r attempt; } <"$cdir/meta" 2>/dev/null || continue
    [ "$pod" = "$1" ] && [ "$name" = "$2" ] && [ "$attempt" -lt "$3" ] || continue
    [ "$(container_state "${cdir##*/}")" = exited ] && rm -rf "$cdir"
  done
}

declare -A volume_failed=()
stop_pod() {
  local pod_id=$1 why=$2 cdir pod grace podname
  { read -r podname; read -r _; read -r _; read -r grace; } <"$cri/pods/$pod_id/meta"
  echo notready >"$cri/pods/$pod_id/state"
  log "sandbox-stopping pod=$podname id=$pod_id reason=$why"
  for cdir in "$cri"/containers/*; do
    read -r pod <"$cdir/meta" 2>/dev/null || continue
    [ "$pod" = "$pod_id" ] || continue
    stop_container "${cdir##*/}" "${grace:-30}" "$why" &
  done
}

reconcile() {
  local uid pod_id dir cname kind a rest name
  for dir in "$cri"/pods/*; do
    [ "$(<"$dir/state")" = ready ] || continue
    read -r uid <"$dir/uid"
    [ -n "${desired[$uid]:-}" ] || stop_pod "${dir##*/}" manifest-gone
  done
  for uid in "${!desired[@]}"; do
    pod_id=$(pod_of_uid "$uid") || {
      IFS=$'\t' read -r kind name rest < <(grep -m1 $'^pod\t' "${desired[$uid]}")
      if name_busy "$name-$node_name"; then continue; fi
      if ! prepare_volumes "${desired[$uid]}" "$uid"; then volume_failed[$uid]=1; continue; fi
      unset "volume_failed[$uid]"
      pod_id=$(create_sandbox "$uid" "${desired[$uid]}")
    }
    while IFS=$'\t' read -r kind cname rest; do
      [ "$kind" = container ] && sync_container "$pod_id" "$uid" "$cname"
    done <"$cri/pods/$pod_id/spec"
  done
}

# Containers of pods that are gone are removed a minute after they stopped, as kubelet's garbage collector does.
collect_garbage() {
  local dir cdir pod finished now
  now=$(now_ns)
  for cdir in "$cri"/containers/*; do
    read -r pod <"$cdir/meta" 2>/dev/null || continue
    [ -r "$cri/pods/$pod/state" ] && [ "$(<"$cri/pods/$pod/state")" = ready ] && continue
    read -r _ finished <"$cdir/exit" 2>/dev/null || continue
    [ $(((now - finished) / 1000000000)) -ge 60 ] && rm -rf "$cdir"
  done
  for dir in "$cri"/pods/*; do
    [ "$(<"$dir/state")" = ready ] && continue
    grep -lqx "${dir##*/}" "$cri"/containers/*/meta 2>/dev/null || { rm -rf "$dir"; log "sandbox-removed id=${dir##*/}"; }
  done
}

trap 'log "kubelet-stopping pid=$$ (containers keep running)"; exit 0' TERM INT HUP
log "kubelet-started pid=$$ node=$node_name static-pod-path=$manifest_dir"
ticks=0
while :; do
  scan_manifests
  load_desired
  reconcile
  ticks=$((ticks + 1))
  [ $((ticks % gc_every)) -eq 0 ] && collect_garbage
  pause 1
done
