#!/usr/bin/env bash
# A single-node SLURM cluster for tests/test_slurm.py: munge, slurmctld and slurmd on this
# machine, one partition "ci", no accounting database (job status comes from squeue, so
# MinJobAge keeps finished jobs visible for an hour).
#
#   tests/slurm/cluster.sh start DIR   # writes DIR/slurm.conf, starts the daemons, waits for the node
#   tests/slurm/cluster.sh stop DIR
#
# Needs root and the Debian packages slurm-wlm and munge (.ci/run installs them). The config is
# DIR/slurm.conf, linked from /etc/slurm/slurm.conf: the executor's job step drops SLURM_CONF
# from the environment of its inner srun, so the default location is the one every client reads.
# An /etc/slurm/slurm.conf that is not our link (a real cluster's) is never replaced.
set -euo pipefail

action=${1:?usage: cluster.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: cluster.sh start|stop DIR}")
conf="$dir/slurm.conf"
system_conf=/etc/slurm/slurm.conf

stop_daemons() {
    for daemon in slurmd slurmctld; do
        if [ -f "$dir/$daemon.pid" ]; then
            kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true
            rm -f "$dir/$daemon.pid"
        fi
    done
}

start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        return
    fi
    install -d -o munge -g munge -m 0755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        mungekey --create --keyfile /etc/munge/munge.key
        chown munge:munge /etc/munge/munge.key
    fi
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do
        munge -n | unmunge >/dev/null 2>&1 && return
        sleep 0.2
    done
    echo "cluster.sh: munged did not answer" >&2
    exit 1
}

write_conf() {
    local host cpus memory
    host=$(hostname -s)
    cpus=$(nproc)
    # Leave 1 GiB to the system; SLURM refuses a node that reports less than RealMemory.
    memory=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024))
    mkdir -p "$dir/state" "$dir/spool"
    {
        echo "ClusterName=rnnatlas-ci"
        echo "SlurmctldHost=$host"
        echo "SlurmUser=root"
        echo "SlurmdUser=root"
        echo "AuthType=auth/munge"
        echo "StateSaveLocation=$dir/state"
        echo "SlurmdSpoolDir=$dir/spool"
        echo "SlurmctldPidFile=$dir/slurmctld.pid"
        echo "SlurmdPidFile=$dir/slurmd.pid"
        echo "SlurmctldLogFile=$dir/slurmctld.log"
        echo "SlurmdLogFile=$dir/slurmd.log"
        echo "ProctrackType=proctrack/linuxproc"
        echo "TaskPlugin=task/none"
        echo "MpiDefault=none"
        echo "SchedulerType=sched/backfill"
        echo "SelectType=select/cons_tres"
        echo "SelectTypeParameters=CR_Core_Memory"
        echo "AccountingStorageType=accounting_storage/none"
        echo "JobAcctGatherType=jobacct_gather/none"
        echo "JobCompType=jobcomp/none"
        echo "ReturnToService=2"
        echo "MinJobAge=3600"
        echo "SlurmctldPort=6817"
        echo "SlurmdPort=6818"
        echo "NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN"
        echo "PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
    } >"$conf"
    if [ -e "$system_conf" ] || [ -L "$system_conf" ]; then
        local old
        old=$(readlink "$system_conf" || true)
        if [ -z "$old" ] || { [ -e "$old" ] && ! grep -q '^ClusterName=rnnatlas-ci$' "$old"; }; then
            echo "cluster.sh: $system_conf exists and is not this test's; refusing to replace it" >&2
            exit 1
        fi
        # an earlier test's cluster (a run killed before its teardown): stop its daemons
        for pid_file in "$(dirname "$old")"/slurmd.pid "$(dirname "$old")"/slurmctld.pid; do
            [ -f "$pid_file" ] && kill "$(cat "$pid_file")" 2>/dev/null || true
        done
        sleep 1
    fi
    mkdir -p "$(dirname "$system_conf")"
    ln -sfn "$conf" "$system_conf"
}

case "$action" in
start)
    stop_daemons
    start_munge
    write_conf
    # -c: a clean state, no jobs left from an earlier run.
    slurmctld -c
    slurmd
    for _ in $(seq 100); do
        if sinfo --noheader --format=%t 2>/dev/null | grep -q -E '^(idle|mix|alloc)'; then
            echo "cluster.sh: node up, partition ci; config $conf"
            exit 0
        fi
        sleep 0.3
    done
    echo "cluster.sh: the node did not come up; see $dir/slurmctld.log and $dir/slurmd.log" >&2
    sinfo >&2 || true
    exit 1
    ;;
stop)
    stop_daemons
    if [ "$(readlink "$system_conf" || true)" = "$conf" ]; then
        rm -f "$system_conf"
    fi
    ;;
*)
    echo "usage: cluster.sh start|stop DIR" >&2
    exit 2
    ;;
esac
