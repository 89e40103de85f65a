#!/usr/bin/env bash
# A throw-away single-node Slurm cluster for eegrun's integration test.
#   tests/slurm/cluster.sh start DIR   → starts munged, slurmctld and slurmd with state in DIR,
#                                        prints `export SLURM_CONF=DIR/slurm.conf`
#   tests/slurm/cluster.sh stop DIR    → stops the daemons started from DIR
# Needs Debian's slurm-wlm and munge, and root (as in CI). Exit 3: not available here.
set -euo pipefail
cmd=${1:?start|stop}; dir=$(mkdir -p "${2:?state folder}" && cd "$2" && pwd)
case "$cmd" in
stop)
  for daemon in slurmd slurmctld munged; do
    [ -f "$dir/$daemon.pid" ] && kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true
  done
  sleep 1
  exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
for tool in munged slurmctld slurmd sbatch; do
  command -v "$tool" >/dev/null || { echo "slurm test: $tool not installed" >&2; exit 3; }
done
[ "$(id -u)" = 0 ] || { echo "slurm test: needs root to run slurmd" >&2; exit 3; }
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$dir/spool/ctld" "$dir/spool/d" "$dir/munge" "$dir/log"
# munge: a fresh key and socket in $dir
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$dir/munge/munge.key"
chmod 0700 "$dir/munge"
munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/socket" --pid-file="$dir/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" --force
cat > "$dir/slurm.conf" <<CONF
ClusterName=eegrun-test
SlurmctldHost=$host
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 30); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 1
done
echo "slurm test: the node did not come up; see $dir/log" >&2
tail -n 20 "$dir/log/"*.log >&2 || true
exit 4
