#!/usr/bin/env bash
# End-to-end proof of the cluster path: the tiny workflow runs through profiles/slurm on a
# real, one-node SLURM on localhost, and every rule job must have gone through sbatch.
#
#   sudo bash tests/cluster/run_slurm_e2e.sh        (or: make test-cluster)
#
# What it does (as root; without root it prints SKIP and exits 0):
#   1. installs Debian's slurm-wlm and munge when missing (apt-get),
#   2. unless a SLURM cluster already answers `sinfo` (then that one is used and nothing is
#      started or stopped), starts a private one-node cluster: munged (only if no munged
#      answers), slurmctld and slurmd, with every state/spool/log/pid/socket file in a temp dir
#      and slurm.conf written from `slurmd -C` (127.0.0.1, task/affinity, MinJobAge=600, one
#      fake GPU so that GPU requests are granted); slurm.conf and gres.conf go to /etc/slurm
#      (the job step's srun reads the default path), only where none exists or a previous
#      run of this script left them, and are removed on exit,
#   3. waits (bounded) until the node is idle,
#   4. runs the tiny config with `--workflow-profile profiles/slurm` under `timeout -s KILL`,
#      up to the training rule (see UNTIL below), overriding only the site keys (partition;
#      no account) and the poll interval,
#   5. checks that every rule job has a SLURM job id in the Snakemake log, is listed COMPLETED
#      by `squeue --states=all` under the run's name, was granted its rule's partition, time,
#      memory, CPUs and GPUs (`scontrol show job`), has its SLURM log and left its outputs,
#   6. dry-runs config/paper.yaml through the same profile on the region the run generated,
#   7. on exit (trap), cancels the run's jobs and stops exactly the daemons it started.
#
# Environment knobs: VOLCDET_E2E_TIMEOUT (s, default 420) bounds the Snakemake run;
# VOLCDET_E2E_UNTIL (rules, default "patch_gallery train"; "all" = whole tiny DAG);
# VOLCDET_E2E_KEEP=1 keeps the temp dir; VOLCDET_SLURM_PARTITION / VOLCDET_SLURM_ACCOUNT
# choose partition/account when an existing cluster is reused.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PROFILE="$REPO/profiles/slurm"
VENV_BIN="$REPO/.venv/bin"
PARTITION=volcdet_ci            # partition of the private test cluster
CLUSTER=volcdet-ci              # its ClusterName
CTLD_PORT=6917                  # private ports: never clash with a site's 6817/6818
SLURMD_PORT=6918
MARKER="# volcdet-e2e: written by tests/cluster/run_slurm_e2e.sh"
SLURM_CONF_PATH=/etc/slurm/slurm.conf
GRES_CONF_PATH=/etc/slurm/gres.conf   # one fake GPU, so `gpu=1` rules get `--gpus=1` granted
# The tiny DAG up to these rules (--until): the patch stage, the simulations and the training
# (2 threads, 16 GB, gpu=1), ~18 SLURM jobs. The whole tiny DAG (50+ jobs, each paying a full
# Snakemake start on 2 cores) takes too long for CI; VOLCDET_E2E_UNTIL=all runs all of it.
UNTIL=${VOLCDET_E2E_UNTIL:-patch_gallery train}
RUN_TIMEOUT=${VOLCDET_E2E_TIMEOUT:-420}
T0=$SECONDS

log() { printf '[slurm-e2e %4ss] %s\n' "$((SECONDS - T0))" "$*"; }
die() {
    log "FAIL: $*" >&2
    exit 1
}

# ---- 0. preconditions -------------------------------------------------------------------
if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: tests/cluster/run_slurm_e2e.sh needs root (it installs and starts SLURM daemons); run it with sudo or as root."
    exit 0
fi
[[ -x "$VENV_BIN/snakemake" ]] || die "$VENV_BIN/snakemake not found: run 'make install' first"
# Jobs inherit this environment (sbatch --export=ALL): the venv's python and scripts first.
export PATH="$VENV_BIN:$PATH"

# ---- state owned by this run (the EXIT trap undoes exactly this) -------------------------
STATE=""                # private temp dir: slurm state, spool, logs, pids, munge socket, workdir
STARTED_PIDS=()         # daemons this run started, in start order
STARTED_NAMES=()
WROTE_CONF=0            # 1 when this run wrote $SLURM_CONF_PATH
MADE_POLICY=0           # 1 when this run created /usr/sbin/policy-rc.d for the install
RUN_ID=""               # the plugin's SLURM run ID (job name of every job of the run)
OWN_CLUSTER=0           # 1 when the cluster is ours (then all jobs on it are ours)
SUCCESS=0

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    if [[ -n "$RUN_ID" ]]; then
        timeout 10 scancel --name="$RUN_ID" 2>/dev/null # jobs left behind by a killed Snakemake
    fi
    if ((OWN_CLUSTER)); then
        timeout 10 scancel --partition="$PARTITION" 2>/dev/null
        for _ in $(seq 20); do    # let slurmd end the cancelled jobs (bounded, 10 s)
            [[ -z $(timeout 5 squeue -h -p "$PARTITION" -t RUNNING,COMPLETING -o %i 2>/dev/null) ]] && break
            sleep 0.5
        done
    fi
    # Stop exactly the daemons this run started, newest first: TERM, then KILL after 10 s.
    local i pid
    for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${STARTED_PIDS[i]}
        kill -0 "$pid" 2>/dev/null || continue
        log "stopping ${STARTED_NAMES[i]} (pid $pid)"
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if ((WROTE_CONF)); then
        for conf in "$SLURM_CONF_PATH" "$GRES_CONF_PATH"; do
            grep -qF "$MARKER" "$conf" 2>/dev/null && rm -f "$conf"
        done
    fi
    ((MADE_POLICY)) && rm -f /usr/sbin/policy-rc.d
    if [[ -n "$STATE" ]]; then
        if ((SUCCESS)) && [[ ${VOLCDET_E2E_KEEP:-0} != 1 ]]; then
            rm -rf "$STATE"
        else
            log "kept $STATE (logs: $STATE/log, workdir: $STATE/work)"
        fi
    fi
    if ((SUCCESS)); then
        log "PASS: every rule job ran through sbatch on SLURM ($((SECONDS - T0)) s in all)"
    else
        log "FAILED (exit $rc) after $((SECONDS - T0)) s" >&2
        ((rc == 0)) && rc=1
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- 1. install slurm-wlm and munge when missing -----------------------------------------
missing=()
for tool in slurmctld slurmd sbatch squeue scontrol sinfo scancel munged munge unmunge; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    log "installing slurm-wlm and munge (missing: ${missing[*]})"
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        # Keep the packages' postinst from starting system daemons: this script starts its own.
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        MADE_POLICY=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null ||
        die "apt-get install slurm-wlm munge failed"
    if ((MADE_POLICY)); then
        rm -f /usr/sbin/policy-rc.d
        MADE_POLICY=0
    fi
    for tool in "${missing[@]}"; do
        command -v "$tool" >/dev/null || die "$tool still missing after the install"
    done
fi
log "$(slurmd -V), $(munged --version 2>&1 | awk '{print $1}')"

STATE=$(mktemp -d /tmp/volcdet-slurm-e2e.XXXXXX)
chmod 755 "$STATE"
mkdir -p "$STATE"/{ctld,spool,log,run,munge,work}
chmod 755 "$STATE/munge" # munged wants its socket directory traversable

# Start one daemon in the foreground mode of its own, in the background of this shell.
start_daemon() { # name logfile command...
    local name=$1 logfile=$2
    shift 2
    "$@" >>"$logfile" 2>&1 &
    STARTED_PIDS+=($!)
    STARTED_NAMES+=("$name")
    log "started $name (pid $!)"
}
# Fail with the tail of a daemon's log when it died.
assert_alive() { # index-in-STARTED logfile
    local i=$1 logfile=$2
    kill -0 "${STARTED_PIDS[i]}" 2>/dev/null && return 0
    tail -n 30 "$logfile" >&2 || true
    die "${STARTED_NAMES[i]} exited (log: $logfile)"
}

# ---- 2. reuse an existing cluster, or start a private one ----------------------------------
if timeout 10 sinfo -h -o %P >/dev/null 2>&1; then
    # A SLURM cluster already answers: use it, start nothing, stop nothing.
    PARTITION=${VOLCDET_SLURM_PARTITION:-$(sinfo -h -o %P | sed -n 's/\*$//p' | head -n 1)}
    [[ -n "$PARTITION" ]] || die "existing cluster has no default partition: set VOLCDET_SLURM_PARTITION"
    log "a SLURM cluster already answers sinfo: using it (partition $PARTITION), no daemon started"
else
    # Our slurm.conf (and gres.conf beside it) has to be at the default path: the plugin's job
    # step strips SLURM_CONF from the environment before it calls `srun` inside the job.
    for conf in "$SLURM_CONF_PATH" "$GRES_CONF_PATH"; do
        [[ -e "$conf" ]] || continue
        if ! grep -qF "$MARKER" "$conf"; then
            die "$conf exists (not written by this test) but no SLURM answers; refusing to overwrite it"
        fi
        owner=$(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' "$conf" | head -n 1)
        if [[ -n "$owner" ]] && kill -0 "$owner" 2>/dev/null; then
            die "another run of this test (pid $owner) owns $conf"
        fi
        log "replacing $conf left behind by an interrupted run"
    done

    # munge: reuse a munged that already answers on the default socket, else start a private one.
    AUTHINFO=""
    if timeout 5 munge -n 2>/dev/null | timeout 5 unmunge >/dev/null 2>&1; then
        log "a munged already answers on the default socket: using it"
    else
        sock="$STATE/munge/munge.socket"
        dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
        chmod 400 "$STATE/munge/munge.key"
        start_daemon munged "$STATE/log/munged.out" munged --foreground --force \
            --socket="$sock" --key-file="$STATE/munge/munge.key" \
            --pid-file="$STATE/run/munged.pid" --seed-file="$STATE/munge/munge.seed" \
            --log-file="$STATE/log/munged.log"
        ok=0
        for _ in $(seq 40); do # bounded: 10 s
            if munge --socket="$sock" -n 2>/dev/null | unmunge --socket="$sock" >/dev/null 2>&1; then
                ok=1
                break
            fi
            assert_alive $((${#STARTED_PIDS[@]} - 1)) "$STATE/log/munged.out"
            sleep 0.25
        done
        ((ok)) || die "munged did not answer within 10 s (log: $STATE/log/munged.log)"
        AUTHINFO="AuthInfo=socket=$sock"
        log "munged answers on $sock"
    fi

    # slurm.conf for one node on localhost, hardware line from `slurmd -C`, plus one fake GPU
    # (gres.conf File=/dev/null): SLURM grants `--gpus=1` and sets CUDA_VISIBLE_DEVICES; code
    # in the job still finds no CUDA device and runs on the CPU.
    NODE=$(hostname -s)
    hw=$(slurmd -C | head -n 1)
    [[ $hw == NodeName=* ]] || die "unexpected 'slurmd -C' output: $hw"
    hw=${hw#NodeName=* }          # CPUs=... Boards=... RealMemory=...
    mkdir -p "$(dirname "$SLURM_CONF_PATH")"
    WROTE_CONF=1
    printf '%s (pid %s); removed when it exits.\nNodeName=%s Name=gpu File=/dev/null\n' \
        "$MARKER" "$$" "$NODE" >"$GRES_CONF_PATH"
    cat >"$SLURM_CONF_PATH" <<EOF
$MARKER (pid $$); removed when it exits.
# One-node test cluster on localhost; every state file is under $STATE.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
$AUTHINFO
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
GresTypes=gpu
# Finished jobs stay visible to squeue for 10 min: the plugin polls with squeue (no sacct).
MinJobAge=600
ReturnToService=2
SlurmdTimeout=120
InactiveLimit=0
KillWait=5
MailProg=/bin/true
NodeName=$NODE NodeAddr=127.0.0.1 $hw Gres=gpu:1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    log "wrote $SLURM_CONF_PATH and $GRES_CONF_PATH: node $NODE ($hw)"

    start_daemon slurmctld "$STATE/log/slurmctld.out" slurmctld -D -i -f "$SLURM_CONF_PATH"
    OWN_CLUSTER=1 # from here on every job on this cluster is ours to cancel
    CTLD_INDEX=$((${#STARTED_PIDS[@]} - 1))
    start_daemon slurmd "$STATE/log/slurmd.out" slurmd -D -N "$NODE" -f "$SLURM_CONF_PATH"
    SLURMD_INDEX=$((${#STARTED_PIDS[@]} - 1))

    # ---- 3. wait until the node is idle (bounded: 60 s) ------------------------------------
    state=""
    for _ in $(seq 120); do
        assert_alive "$CTLD_INDEX" "$STATE/log/slurmctld.log"
        assert_alive "$SLURMD_INDEX" "$STATE/log/slurmd.log"
        state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
        [[ $state == idle ]] && break
        sleep 0.5
    done
    if [[ $state != idle ]]; then
        tail -n 20 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
        die "node $NODE not idle within 60 s (state: '${state:-no answer}')"
    fi
    log "node $NODE is idle in partition $PARTITION"
fi
sinfo

# ---- 4. the tiny workflow through the slurm profile ----------------------------------------
WORK="$STATE/work"
cp "$REPO/tests/fixtures/tiny_config.yaml" "$WORK/config.yaml"
# Site keys from the command line: the profile's default-resources restated, partition swapped.
mapfile -t resources < <(python "$REPO/tests/cluster/profile_resources.py" "$PROFILE/profile.yaml" \
    --partition "$PARTITION" ${VOLCDET_SLURM_ACCOUNT:+--account "$VOLCDET_SLURM_ACCOUNT"})
((${#resources[@]})) || die "could not read default-resources from $PROFILE/profile.yaml"
SMK_LOG="$STATE/log/snakemake.log"
cmd=(snakemake --snakefile "$REPO/Snakefile" --directory "$WORK" --configfile "$WORK/config.yaml"
    --workflow-profile "$PROFILE" --jobs 4
    --default-resources "${resources[@]}"
    --slurm-init-seconds-before-status-checks 2)
if [[ $UNTIL != all ]]; then
    read -r -a until_rules <<<"$UNTIL"
    cmd+=(--until "${until_rules[@]}")
fi
log "running (timeout ${RUN_TIMEOUT}s): ${cmd[*]}"
cd "$WORK" # relative slurm-logdir resolves against the invocation directory
set +e
timeout -s KILL "$RUN_TIMEOUT" "${cmd[@]}" 2>&1 | tee "$SMK_LOG"
rc=${PIPESTATUS[0]}
set -e
RUN_ID=$(sed -n 's/.*SLURM run ID: \([^ ]*\).*/\1/p' "$SMK_LOG" | head -n 1)
((rc != 137)) || die "snakemake killed after ${RUN_TIMEOUT}s (timeout)"
((rc == 0)) || die "snakemake exited with $rc (log: $SMK_LOG)"
log "snakemake finished; SLURM run ID $RUN_ID"

# ---- 5. every rule job went through sbatch ------------------------------------------------
squeue --states=all -h -o '%i|%j|%T|%k' >"$STATE/log/squeue.txt"
scontrol -o show job >"$STATE/log/scontrol_jobs.txt"  # what SLURM granted (time, mem, cpus, gpus)
log "squeue --states=all after the run:"
squeue --states=all -o '%.8i %.36j %.10T %.10M %.30k %R'
log "checking every rule job against SLURM's records:"
check=(python "$REPO/tests/cluster/check_slurm_run.py" --log "$SMK_LOG"
    --squeue "$STATE/log/squeue.txt" --scontrol "$STATE/log/scontrol_jobs.txt" --workdir "$WORK")
((OWN_CLUSTER)) && check+=(--expect-gpu) # our node has a GPU: some job (train) must have used it
"${check[@]}" ||
    die "not every job went through SLURM as declared"
[[ -s "$WORK/results/patches/test.npy" ]] || die "results/patches/test.npy missing"
log "all rule jobs submitted with sbatch, COMPLETED in SLURM, outputs present"

# ---- 6. the paper configuration builds its DAG through the same profile (dry run) ----------
# config/paper.yaml names data/central_andes (not shipped); a second config file points it at
# the region the run just generated (it follows the data contract).
log "dry run: config/paper.yaml through the profile, region = the generated demo region"
PAPER_WORK="$STATE/paper"
mkdir -p "$PAPER_WORK"
printf 'region:\n  path: %s\n  synthetic_demo: false\n' "$WORK/data/demo" >"$PAPER_WORK/region.yaml"
cd "$PAPER_WORK"
timeout -s KILL 120 snakemake --snakefile "$REPO/Snakefile" --directory "$PAPER_WORK" \
    --configfile "$REPO/config/paper.yaml" "$PAPER_WORK/region.yaml" --workflow-profile "$PROFILE" \
    --default-resources "${resources[@]}" -n >"$STATE/log/paper_dryrun.log" 2>&1 ||
    {
        tail -n 30 "$STATE/log/paper_dryrun.log" >&2
        die "paper dry run failed (log: $STATE/log/paper_dryrun.log)"
    }
awk '/^Job stats:/ {on = 1} on && /^$/ {exit} on' "$STATE/log/paper_dryrun.log"
SUCCESS=1
