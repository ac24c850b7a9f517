#!/bin/sh
# ---------------------------------------------------------------------------
# orchestrate lab TEST FIXTURE - a stand-in for systemctl inside a lab host.
# It is NOT systemd and must never be installed on a real machine. No init
# system runs in a lab host, so this script starts, stops and reports the
# services declared in /etc/systemd/system/<unit>.service:
#   - reads ExecStart= (continuation lines joined, a leading - @ + ! dropped),
#     Environment= and WorkingDirectory= from the [Service] section
#     (words split on blanks, "double quotes" group words; no other syntax);
#   - starts the command fully detached (setsid, all three standard streams
#     redirected to /var/log/lab-units/<unit>.log) with a clean environment;
#   - keeps the main pid in /var/lib/lab-systemd/<unit>.pid (under /var/lib,
#     so `orchestrate lab down` can read it from outside the host);
#   - stop: SIGTERM to the process group, SIGKILL after 15 s;
#   - appends "<UTC ISO-8601 time with ms> <start|stop> <unit>" to
#     /var/log/lab-systemctl.log for every start and stop, so tests can
#     assert the order of operations.
# Exit codes follow systemctl: 0 ok, 1 failure, 3 inactive, 4 no such unit
# (status), 5 unit not found (start/stop/restart).
# LAB_SYSTEMCTL_ROOT (default empty) prefixes every path, for tests.
# ---------------------------------------------------------------------------
set -u

root=${LAB_SYSTEMCTL_ROOT:-}
unit_dir="$root/etc/systemd/system"
state_dir="$root/var/lib/lab-systemd"
unit_log_dir="$root/var/log/lab-units"
event_log="$root/var/log/lab-systemctl.log"
clean_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
stop_timeout_tenths=150

say() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }

# Unit name without the .service suffix; anything that is not a plain name is refused.
unit_name() {
  name=${1%.service}
  case $name in
    '' | .* | */* | *[!A-Za-z0-9@._:-]*) return 1 ;;
  esac
  printf '%s\n' "$name"
}

unit_file() { printf '%s/%s.service\n' "$unit_dir" "$1"; }
# Drop-ins (<unit>.service.d/*.conf), in name order: read after the unit, as systemd does.
drop_ins() { for d in "$unit_dir/$1.service.d"/*.conf; do [ -f "$d" ] && printf '%s\n' "$d"; done; }
pid_file() { printf '%s/%s.pid\n' "$state_dir" "$1"; }

log_event() {
  mkdir -p "$(dirname "$event_log")"
  printf '%s %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$1" "$2" >>"$event_log"
}

# Values of one [Service] directive, one per line, continuation lines joined.
read_directive() {
  rd_want=$2
  rd_first=$1
  shift 2
  awk -v want="$rd_want" '
    function handle(l,   k, v) {
      if (l ~ /^[ \t]*([#;]|$)/) return
      if (l ~ /^[ \t]*\[/) { section = l; gsub(/[ \t\[\]]/, "", section); return }
      if (section != "Service") return
      k = l; sub(/=.*/, "", k); gsub(/[ \t]/, "", k)
      if (k != want) return
      v = l; sub(/^[^=]*=[ \t]*/, "", v)
      print v
    }
    {
      line = $0
      if (joining) line = joined " " line
      if (line ~ /\\[ \t]*$/) { sub(/\\[ \t]*$/, "", line); joined = line; joining = 1; next }
      joining = 0
      handle(line)
    }
    END { if (joining) handle(joined) }
  ' "$rd_first" "$@"
}

# Split a directive value into words, one per line: blanks separate, "double quotes" group.
split_words() {
  awk '{
    word = ""; inword = 0; quoted = 0
    n = length($0)
    for (i = 1; i <= n; i++) {
      c = substr($0, i, 1)
      if (c == "\"") { quoted = !quoted; inword = 1; continue }
      if (!quoted && (c == " " || c == "\t")) { if (inword) print word; word = ""; inword = 0; continue }
      word = word c; inword = 1
    }
    if (inword) print word
  }'
}

# Prints the pid of a live (not zombie) main process, or fails.
running_pid() {
  rp_file=$(pid_file "$1")
  [ -r "$rp_file" ] || return 1
  pid=$(cat "$rp_file" 2>/dev/null) || return 1
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  process_alive "$pid" || return 1
  printf '%s\n' "$pid"
}

process_alive() {
  pa_stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  pa_state=${pa_stat##*) }
  pa_state=${pa_state%% *}
  [ "$pa_state" != Z ] && [ "$pa_state" != X ]
}

start_unit() {
  unit=$1
  file=$(unit_file "$unit")
  if [ ! -f "$file" ]; then
    warn "Failed to start $unit.service: Unit $unit.service not found."
    return 5
  fi
  log_event start "$unit"
  if running_pid "$unit" >/dev/null; then return 0; fi

  # An empty ExecStart= in a drop-in resets the list: the last non-empty value is the command.
  exec_line=$(read_directive "$file" ExecStart $(drop_ins "$unit") | awk 'NF { last = $0 } END { print last }')
  while :; do
    case $exec_line in [-@+!]*) exec_line=${exec_line#?} ;; *) break ;; esac
  done
  if [ -z "$exec_line" ]; then
    warn "Failed to start $unit.service: Unit $unit.service has no ExecStart= setting."
    return 1
  fi
  workdir=$(read_directive "$file" WorkingDirectory $(drop_ins "$unit") | awk 'NF { last = $0 } END { print last }')
  workdir_optional=no
  case $workdir in -*) workdir=${workdir#-}; workdir_optional=yes ;; esac
  if [ -n "$workdir" ] && [ ! -d "$root$workdir" ]; then
    if [ "$workdir_optional" = no ]; then
      warn "Job for $unit.service failed: WorkingDirectory=$workdir does not exist (status=200/CHDIR)."
      return 1
    fi
    workdir=
  fi

  mkdir -p "$state_dir" "$unit_log_dir"
  pidfile=$(pid_file "$unit")
  rm -f "$pidfile"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$state_dir/$unit.since"

  # argv for env -i: clean PATH, Environment= assignments, then the command words.
  set -- "PATH=$clean_path" "LANG=C.UTF-8"
  env_words=$(read_directive "$file" Environment $(drop_ins "$unit") | split_words)
  exec_words=$(printf '%s\n' "$exec_line" | split_words)
  while IFS= read -r word; do
    case $word in *=*) set -- "$@" "$word" ;; esac
  done <<EOF
$env_words
EOF
  while IFS= read -r word; do
    [ -n "$word" ] && set -- "$@" "$word"
  done <<EOF
$exec_words
EOF

  # The child writes its own pid (it is the pid that execs the command), then becomes the service.
  (
    cd "$root${workdir:-/}" 2>/dev/null || cd /
    exec setsid sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec env -i "$@"' "$pidfile" "$@" \
      </dev/null >>"$unit_log_dir/$unit.log" 2>&1
  ) &
  tries=0
  while [ ! -s "$pidfile" ] && [ $tries -lt 100 ]; do
    sleep 0.05
    tries=$((tries + 1))
  done
  if [ ! -s "$pidfile" ]; then
    warn "Job for $unit.service failed: the process did not start (see $unit_log_dir/$unit.log)."
    return 1
  fi
  return 0
}

stop_unit() {
  unit=$1
  if [ ! -f "$(unit_file "$unit")" ] && [ ! -f "$(pid_file "$unit")" ]; then
    warn "Failed to stop $unit.service: Unit $unit.service not loaded."
    return 5
  fi
  log_event stop "$unit"
  pid=$(running_pid "$unit") || { rm -f "$(pid_file "$unit")"; return 0; }
  # The service leads its own process group (setsid): signal the whole group.
  kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  tries=0
  while process_alive "$pid" && [ $tries -lt $stop_timeout_tenths ]; do
    sleep 0.1
    tries=$((tries + 1))
  done
  if process_alive "$pid"; then
    warn "$unit.service: stop timed out, sending SIGKILL to $pid"
    kill -KILL -"$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    tries=0
    while process_alive "$pid" && [ $tries -lt 50 ]; do
      sleep 0.1
      tries=$((tries + 1))
    done
  fi
  if process_alive "$pid"; then
    warn "Failed to stop $unit.service: process $pid did not exit."
    return 1
  fi
  rm -f "$(pid_file "$unit")"
  return 0
}

is_enabled() { [ -f "$state_dir/$1.enabled" ]; }

status_unit() {
  unit=$1
  file=$(unit_file "$unit")
  if [ ! -f "$file" ]; then
    warn "Unit $unit.service could not be found."
    return 4
  fi
  description=$(awk -F= '/^Description=/ { sub(/^Description=/, ""); print; exit }' "$file")
  if is_enabled "$unit"; then enabled=enabled; else enabled=disabled; fi
  say "* $unit.service - ${description:-$unit}"
  say "     Loaded: loaded ($file; $enabled) [lab stand-in systemctl]"
  if pid=$(running_pid "$unit"); then
    say "     Active: active (running) since $(cat "$state_dir/$unit.since" 2>/dev/null)"
    say "   Main PID: $pid"
    return 0
  fi
  say "     Active: inactive (dead)"
  return 3
}

show_property() {
  unit=$1 property=$2 value_only=$3
  if pid=$(running_pid "$unit"); then active=active sub=running; else pid=0 active=inactive sub=dead; fi
  if [ -f "$(unit_file "$unit")" ]; then load=loaded; else load=not-found; fi
  if is_enabled "$unit"; then file_state=enabled; else file_state=disabled; fi
  case $property in
    MainPID | ExecMainPID) value=$pid ;;
    ActiveState) value=$active ;;
    SubState) value=$sub ;;
    LoadState) value=$load ;;
    UnitFileState) value=$file_state ;;
    Id) value=$unit.service ;;
    *) value= ;;
  esac
  if [ "$value_only" = yes ]; then say "$value"; else say "$property=$value"; fi
}

usage() {
  warn "usage: systemctl [--no-block|-q|--now|--no-pager] start|stop|restart|is-active|is-enabled|status|cat|enable|disable|daemon-reload|show -p PROP UNIT..."
  warn "(orchestrate lab stand-in; not systemd)"
}

verb= now=no value_only=no quiet=no properties=
while [ $# -gt 0 ]; do
  case $1 in
    --quiet | -q) quiet=yes ;;
    --no-block | --no-pager | --system | --no-ask-password | -l | --full) ;;
    --now) now=yes ;;
    --value) value_only=yes ;;
    -p | --property) shift; properties="$properties ${1:-}" ;;
    --property=*) properties="$properties ${1#--property=}" ;;
    -*) warn "systemctl (lab stand-in): unsupported option $1"; exit 1 ;;
    *) if [ -z "$verb" ]; then verb=$1; else break; fi ;;
  esac
  shift
done
[ -n "$verb" ] || { usage; exit 1; }

# Remaining words are units; options after them count too.
units= expect_property=no
for word in "$@"; do
  if [ "$expect_property" = yes ]; then
    properties="$properties $word" expect_property=no
    continue
  fi
  case $word in
    -p | --property) expect_property=yes ;;
    --property=*) properties="$properties ${word#--property=}" ;;
    --quiet | -q) quiet=yes ;;
    --now) now=yes ;;
    --value) value_only=yes ;;
    -*) ;;
    *)
      name=$(unit_name "$word") || { warn "Invalid unit name \"$word\"."; exit 1; }
      units="$units $name"
      ;;
  esac
done

case $verb in
  daemon-reload | reset-failed) exit 0 ;;
esac
[ -n "$units" ] || { warn "Too few arguments."; exit 1; }

rc=0
case $verb in
  start | stop | restart)
    for unit in $units; do
      case $verb in
        start) start_unit "$unit" || rc=$? ;;
        stop) stop_unit "$unit" || rc=$? ;;
        restart)
          if [ ! -f "$(unit_file "$unit")" ]; then
            warn "Failed to restart $unit.service: Unit $unit.service not found."
            rc=5
            continue
          fi
          stop_unit "$unit" || rc=$?
          start_unit "$unit" || rc=$?
          ;;
      esac
    done
    ;;
  cat)
    for unit in $units; do
      file=$(unit_file "$unit")
      if [ ! -f "$file" ]; then
        warn "No files found for $unit.service."
        rc=1
        continue
      fi
      say "# ${file#$root}"
      cat "$file"
      for d in $(drop_ins "$unit"); do
        say ""
        say "# ${d#$root}"
        cat "$d"
      done
    done
    ;;
  is-active)
    rc=3
    for unit in $units; do
      if running_pid "$unit" >/dev/null; then state=active rc=0; else state=inactive; fi
      [ "$quiet" = yes ] || say "$state"
    done
    ;;
  is-enabled)
    rc=1
    for unit in $units; do
      if is_enabled "$unit"; then state=enabled rc=0; else state=disabled; fi
      [ "$quiet" = yes ] || say "$state"
    done
    ;;
  status)
    for unit in $units; do
      status_unit "$unit" || { code=$?; [ $rc -eq 0 ] && rc=$code; }
    done
    ;;
  enable | disable)
    for unit in $units; do
      if [ ! -f "$(unit_file "$unit")" ]; then
        warn "Failed to $verb unit: Unit file $unit.service does not exist."
        rc=1
        continue
      fi
      mkdir -p "$state_dir"
      if [ "$verb" = enable ]; then
        : >"$state_dir/$unit.enabled"
        [ "$now" = yes ] && { start_unit "$unit" || rc=$?; }
      else
        rm -f "$state_dir/$unit.enabled"
        [ "$now" = yes ] && { stop_unit "$unit" || rc=$?; }
      fi
    done
    ;;
  show)
    [ -n "$properties" ] || properties="Id LoadState ActiveState SubState MainPID UnitFileState"
    for unit in $units; do
      for property in $(printf '%s' "$properties" | tr ',' ' '); do
        show_property "$unit" "$property" "$value_only"
      done
    done
    ;;
  *)
    warn "Unknown command verb $verb. (orchestrate lab stand-in systemctl)"
    rc=1
    ;;
esac
exit $rc
