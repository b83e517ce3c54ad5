#!/usr/bin/env bash
# A real 3-node Slurm cluster on this one machine, for tsflux's multi-node tests
# (`srun -N3 tsflux start …`): munged with its own key and socket, one slurmctld and three
# slurmd, nodes n1 n2 n3, each slurmd in its own UTS namespace (so `hostname` prints its node
# name) with its own loopback address (127.0.0.11-13, lines marked "# slurm-testbed" in
# /etc/hosts). Debian's packages: slurmctld slurmd slurm-client munge. Needs root.
#
#   scripts/slurm-testbed.sh up      tear down leftovers, then start; prints SLURM_CONF=…
#   scripts/slurm-testbed.sh down    stop everything this testbed started (strays included)
#   scripts/slurm-testbed.sh status  sinfo, or exit 1 when it is not up
#   scripts/slurm-testbed.sh env     print `export SLURM_CONF=…` (for eval)
#
# State lives in $TSFLUX_TESTBED_DIR (default /tmp/slurm-testbed). Ports: slurmctld 16817,
# slurmd 17001-17003 (not Slurm's defaults, so as not to clash with a real Slurm).
set -euo pipefail

D=${TSFLUX_TESTBED_DIR:-/tmp/slurm-testbed}
CONF=$D/etc/slurm.conf
NODES=(n1 n2 n3)
MARK='# slurm-testbed'
export SLURM_CONF=$CONF

die() {
  echo "slurm-testbed: $*" >&2
  exit 1
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.1 s until it succeeds
wait_for() {
  local limit=$1 what=$2
  shift 2
  local n=$((limit * 10))
  until "$@" >/dev/null 2>&1; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || return 1
    sleep 0.1
  done
}

# alive and not a zombie
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
  [ "$st" != Z ]
}

# Run a daemon with no file descriptor but stdio: it must not keep what our caller holds open
# (e.g. the lock of `flock LOCK scripts/slurm-testbed.sh up`) for as long as it lives.
daemon() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    exec "$@"
  )
}

pidfile_pid() { [ -f "$1" ] && cat "$1" 2>/dev/null || true; }

# Processes of this testbed: pid files, plus slurmstepd strays whose cwd is $D/log (they do
# not inherit slurmd's environment), plus any slurmd/slurmctld/munged naming our files.
testbed_pids() {
  local f p
  for f in "$D/ctld/slurmctld.pid" "$D"/spool/slurmd-*.pid "$D/munge/munged.pid"; do
    p=$(pidfile_pid "$f")
    pid_alive "$p" && echo "$p"
  done
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    local exe cmd cwd
    exe=$(readlink "/proc/$p/exe" 2>/dev/null || true)
    case "$exe" in
      */slurmstepd | */slurmd | */slurmctld | */munged) ;;
      *) continue ;;
    esac
    cwd=$(readlink "/proc/$p/cwd" 2>/dev/null || true)
    cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null || true)
    if [ "$cwd" = "$D/log" ] || [[ "$cmd" == *"$D/"* ]]; then echo "$p"; fi
  done | sort -u
}

hosts_remove() {
  # rewrite in place: /etc/hosts is often a bind mount, which a rename (sed -i) would break
  if grep -q "$MARK" /etc/hosts 2>/dev/null; then
    local t
    t=$(grep -v "$MARK" /etc/hosts || true)
    printf '%s\n' "$t" >/etc/hosts
  fi
}

down() {
  if [ -f "$CONF" ] && command -v scontrol >/dev/null; then
    if timeout 3 scontrol ping 2>/dev/null | grep -q 'is UP'; then
      local jobs
      jobs=$(timeout 3 squeue -h -o %A 2>/dev/null || true)
      # shellcheck disable=SC2086
      [ -z "$jobs" ] || timeout 3 scancel $jobs 2>/dev/null || true
      timeout 3 scontrol shutdown >/dev/null 2>&1 || true
    fi
  fi
  local pids
  pids=$(testbed_pids)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    local n=30
    while [ $n -gt 0 ] && [ -n "$(testbed_pids)" ]; do
      sleep 0.1
      n=$((n - 1))
    done
    pids=$(testbed_pids)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
    n=30
    while [ $n -gt 0 ] && [ -n "$(testbed_pids)" ]; do
      sleep 0.1
      n=$((n - 1))
    done
  fi
  hosts_remove
  rm -rf "$D/ctld" "$D/spool" "$D/munge"
}

write_conf() {
  local host
  host=$(hostname -s)
  cat >"$CONF" <<EOF
ClusterName=testbed
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$D/ctld
SlurmctldPidFile=$D/ctld/slurmctld.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdSpoolDir=$D/spool/%n
SlurmdPidFile=$D/spool/slurmd-%n.pid
SlurmdLogFile=$D/log/slurmd-%n.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
KillWait=5
InactiveLimit=0
NodeName=n1 NodeHostname=n1 NodeAddr=127.0.0.11 Port=17001 CPUs=4 State=UNKNOWN
NodeName=n2 NodeHostname=n2 NodeAddr=127.0.0.12 Port=17002 CPUs=4 State=UNKNOWN
NodeName=n3 NodeHostname=n3 NodeAddr=127.0.0.13 Port=17003 CPUs=4 State=UNKNOWN
PartitionName=debug Nodes=n[1-3] Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

idle3() { [ "$(sinfo -h -N -o '%t' 2>/dev/null | grep -c '^idle')" = 3 ]; }

up() {
  [ "$(id -u)" = 0 ] || die "must run as root (slurmd, munged, /etc/hosts)"
  local b
  for b in munged munge unmunge slurmctld slurmd srun sinfo scontrol scancel unshare; do
    command -v "$b" >/dev/null || die "$b not found: apt-get install --no-install-recommends slurmctld slurmd slurm-client munge"
  done
  down
  local host
  host=$(hostname -s)
  getent hosts "$host" >/dev/null || die "this host's name $host does not resolve (slurmctld needs it)"
  mkdir -p "$D/etc" "$D/munge" "$D/ctld" "$D/spool" "$D/log"
  chmod 755 "$D" "$D/munge" # munged refuses a socket directory others cannot enter
  dd if=/dev/urandom of="$D/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$D/munge/munge.key"
  daemon munged --socket="$D/munge/munge.sock" --key-file="$D/munge/munge.key" --pid-file="$D/munge/munged.pid" \
    --log-file="$D/log/munged.log" --seed-file="$D/munge/munged.seed" ||
    die "munged failed to start: $(tail -3 "$D/log/munged.log" 2>/dev/null)"
  {
    echo "127.0.0.11 n1 $MARK"
    echo "127.0.0.12 n2 $MARK"
    echo "127.0.0.13 n3 $MARK"
  } >>/etc/hosts
  write_conf
  daemon slurmctld -f "$CONF" || die "slurmctld failed to start: $(tail -3 "$D/log/slurmctld.log" 2>/dev/null)"
  wait_for 30 slurmctld sh -c 'scontrol ping | grep -q "is UP"' ||
    die "slurmctld is not up after 30 s: $(tail -3 "$D/log/slurmctld.log" 2>/dev/null)"
  local n
  for n in "${NODES[@]}"; do
    mkdir -p "$D/spool/$n"
    (cd "$D/log" && daemon unshare --uts -- sh -ec 'hostname "$1"; exec slurmd -f "$2" -N "$1"' sh "$n" "$CONF") ||
      die "slurmd $n failed to start: $(tail -3 "$D/log/slurmd-$n.log" 2>/dev/null)"
  done
  wait_for 30 nodes idle3 || die "the nodes are not idle after 30 s: $(sinfo -N 2>&1 | tr '\n' ' ')"
  echo "SLURM_CONF=$CONF"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status)
    [ -f "$CONF" ] && idle3 || {
      echo "slurm-testbed: not up" >&2
      exit 1
    }
    sinfo
    ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) die "usage: $0 up|down|status|env" ;;
esac
