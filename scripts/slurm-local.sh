#!/usr/bin/env bash
# A single-node Slurm on this machine (127.0.0.1), for the cluster tests (issue 23): Debian's
# slurm-wlm and munge, no systemd — munged, `slurmctld -D` and `slurmd -D` in the background,
# with their configuration, state and logs in one folder.
#
#   scripts/slurm-local.sh start     # writes DIR/slurm.conf, starts the daemons, waits (bounded)
#                                    # until the node is idle; prints `export SLURM_CONF=…`
#   scripts/slurm-local.sh stop      # stops the daemons this script started (by their pid files)
#   scripts/slurm-local.sh logs      # prints the daemons' logs (for a failed CI step)
#
# DIR is $COLEARN_SLURM_DIR (default /tmp/colearn-slurm). Clients (sbatch, squeue, and colearn's
# --submit) find the cluster through SLURM_CONF=DIR/slurm.conf. Needs root (the daemons run as
# root here, SlurmUser=root: a throwaway test cluster, not a production setup).
set -euo pipefail
dir=${COLEARN_SLURM_DIR:-/tmp/colearn-slurm}
conf=$dir/slurm.conf
export SLURM_CONF=$conf

fail() {
  echo "slurm-local: $*" >&2
  exit 1
}

logs() {
  for file in "$dir"/munged.log "$dir"/slurmctld.log "$dir"/slurmd.log; do
    [[ -f $file ]] || continue
    echo "----- $file (last 40 lines)" >&2
    tail -40 "$file" >&2
  done
}

stop() {
  for name in slurmd slurmctld munged; do
    local file=$dir/$name.pid
    [[ -f $file ]] || continue
    local pid
    pid=$(cat "$file")
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
  done
}

start() {
  [[ $(id -u) -eq 0 ]] || fail "needs root (the test cluster's daemons run as root)"
  for program in munged slurmctld slurmd sbatch sinfo; do
    command -v "$program" >/dev/null || fail "$program is not installed (apt-get install -y slurm-wlm munge)"
  done
  stop
  rm -rf "$dir"
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chmod 700 "$dir/munge"

  # munge: the key Debian's package generated, else a new one.
  local key=/etc/munge/munge.key
  if [[ ! -s $key ]]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=$key bs=1024 count=1 status=none
  fi
  chown root:root $key && chmod 400 $key
  munged --force --key-file=$key --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" \
    || fail "munged did not start: $(tail -5 "$dir/munged.log" 2>/dev/null)"

  local cpus memory node
  # At least 8 CPUs are declared (config_overrides: slurmd accepts more than the machine has),
  # so a federation's server and three participants run at once on a 2-core CI machine; the
  # test jobs are light, the oversubscription is harmless.
  cpus=$(nproc)
  ((cpus >= 8)) || cpus=8
  memory=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
  node=$(hostname -s)
  cat >"$conf" <<CONF
# A single-node test cluster written by scripts/slurm-local.sh.
ClusterName=colearn-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MaxArraySize=1001
SlurmdParameters=config_overrides
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=600
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  # munge's clients (the daemons and the job steps) find the socket through AuthInfo above.
  slurmctld -D -f "$conf" >>"$dir/slurmctld.log" 2>&1 &
  echo $! >"$dir/slurmctld.pid"
  slurmd -D -f "$conf" >>"$dir/slurmd.log" 2>&1 &
  echo $! >"$dir/slurmd.pid"

  # Bounded wait: the node idle within 60 s, else the logs and a failure.
  local state=""
  for _ in $(seq 120); do
    state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
    [[ $state == idle ]] && break
    sleep 0.5
  done
  if [[ $state != idle ]]; then
    logs
    stop
    fail "the node did not become idle within 60 s (state: ${state:-no answer from slurmctld})"
  fi
  echo "slurm-local: node $node idle ($cpus CPUs, $memory MB); export SLURM_CONF=$conf"
}

case ${1:-} in
start) start ;;
stop) stop ;;
logs) logs ;;
*) fail "usage: $0 start|stop|logs" ;;
esac
