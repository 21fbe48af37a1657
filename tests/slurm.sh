#!/bin/sh
# The Slurm recipe of docs/SCALING.md, run on a real scheduler (issue 21):
# a single-node Slurm (Debian's slurm-wlm, authenticated by munge) started
# here in a temporary directory runs a job array of `breachscope scan`, one
# task per host log directory and per capture link, and a `merge` that
# depends on the array (afterok); the merged results must equal `analyze`
# over the same inputs byte for byte. Output: TAP.
#
# Installs nothing: the packages come from `./bootstrap --install` (optional
# test packages). Skipped only when they are absent; a daemon that does not
# start is a failure, shown with its log. Every wait is bounded, and the
# daemons are stopped on every way out (trap).
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
. "$top_srcdir/tests/tap.sh"

for prog in munged mungekey slurmctld slurmd sbatch squeue scontrol sinfo scancel; do
	PATH=$PATH:/usr/sbin:/sbin command -v "$prog" >/dev/null 2>&1 ||
		skip_all "$prog not installed (Debian packages slurm-wlm and munge: ./bootstrap --install)"
done
PATH=$PATH:/usr/sbin:/sbin
# slurmd starts every job as its owner, which needs root (as in production)
[ "$(id -u)" = 0 ] || skip_all "slurmd must run as root to start jobs; run this test as root"

builddir=$(cd "$top_builddir" && pwd)
bin="$builddir/breachscope"
work="$builddir/tests/slurm-work"
rm -rf "$work"; mkdir -p "$work"
# the daemons' files: a short path (munge's socket is a Unix socket, at most
# 107 bytes), removed at the end
run=$(mktemp -d "${TMPDIR:-/tmp}/bs-slurm.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }

# a Slurm variable inherited from a surrounding job would steer our sbatch
for v in $(env | sed -n 's/^\(S\(LURM\|BATCH\|QUEUE\)_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export SLURM_CONF="$run/slurm.conf"

munged_pid="" ctld_pid="" slurmd_pid=""
stop_daemons() {
	if [ -n "$ctld_pid" ]; then timeout 10 scancel --quiet --user=root >/dev/null 2>&1; fi
	for p in $slurmd_pid $ctld_pid $munged_pid; do kill "$p" 2>/dev/null; done
	# bounded wait for them to go (then the hard way)
	t=0
	while [ $t -lt 20 ]; do
		alive=""
		for p in $slurmd_pid $ctld_pid $munged_pid; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
		[ -z "$alive" ] && break
		sleep 0.5; t=$((t + 1))
	done
	for p in $alive; do kill -9 "$p" 2>/dev/null; done
	munged_pid="" ctld_pid="" slurmd_pid=""
	rm -rf "$run"
}
trap 'stop_daemons' EXIT
trap 'exit 1' INT TERM HUP PIPE

show_log() { # show_log FILE: as TAP comments
	echo "# --- $1"
	[ -f "$1" ] && tail -n 40 "$1" | sed 's/^/#   /'
}
wait_for() { # wait_for SECONDS COMMAND...: poll until it succeeds, at most SECONDS
	deadline=$(($(date +%s) + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.5
	done
}

# --- munge ------------------------------------------------------------------
mkdir -p "$run/munge" "$run/state" "$run/spool"
chmod 0700 "$run/munge"
mungekey --create --keyfile="$run/munge/munge.key" >/dev/null 2>&1 &&
	chmod 0400 "$run/munge/munge.key"
check_status $? "made a munge key"
munged --foreground --force --key-file="$run/munge/munge.key" --socket="$run/munge/socket" \
	--pid-file="$run/munge/munged.pid" --log-file="$run/munge/munged.log" \
	--seed-file="$run/munge/seed" >"$run/munge/stderr" 2>&1 &
munged_pid=$!
if wait_for 10 sh -c "timeout 5 munge -S '$run/munge/socket' -n | timeout 5 unmunge -S '$run/munge/socket'"; then
	pass "munged runs and credentials round-trip"
else
	fail "munged runs and credentials round-trip"
	show_log "$run/munge/stderr"; show_log "$run/munge/munged.log"
	done_testing; exit 1
fi

# --- slurmctld and slurmd -----------------------------------------------------
# two ports of our own, so that concurrent runs on one machine do not meet
listening() { ss -ltnH 2>/dev/null | awk '{ print $4 }' | grep -q ":$1\$"; }
port=$(( (($$ * 7919) % 20000) * 2 + 20000 ))
tries=0
while { listening "$port" || listening $((port + 1)); } && [ $tries -lt 50 ]; do
	port=$((port + 2)); tries=$((tries + 1))
done
cat >"$SLURM_CONF" <<EOF
ClusterName=breachscope
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$run/munge/socket
StateSaveLocation=$run/state
SlurmdSpoolDir=$run/spool
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmctldLogFile=$run/slurmctld.log
SlurmdLogFile=$run/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
# the node is what this file says, whatever the machine has
SlurmdParameters=config_overrides
# a failed scan cancels the merge that waits for it, instead of leaving it
# pending for ever; schedule at once rather than every few seconds
DependencyParameters=kill_invalid_depend
SchedulerParameters=batch_sched_delay=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -f "$SLURM_CONF" >"$run/slurmctld.stderr" 2>&1 &
ctld_pid=$!
slurmd -D -f "$SLURM_CONF" -N localhost >"$run/slurmd.stderr" 2>&1 &
slurmd_pid=$!
node_idle() { [ "$(timeout 5 sinfo -h -n localhost -o %t 2>/dev/null)" = idle ]; }
if wait_for 30 node_idle; then
	pass "slurmctld and slurmd run; the node is idle"
else
	fail "slurmctld and slurmd run; the node is idle"
	timeout 10 sinfo 2>&1 | sed 's/^/#   /'
	for f in slurmctld.stderr slurmctld.log slurmd.stderr slurmd.log; do show_log "$run/$f"; done
	done_testing; exit 1
fi

# --- the recipe ---------------------------------------------------------------
"$top_builddir/samples/bs-gen" --scenario reference --seed 11 --users 120 --out "$work/in" >/dev/null 2>&1
check_status $? "generated the reference incident"
fleet="$work/in/fleet.csv"
ls -d "$work/in/logs"/* "$work/in/pcap" >"$work/inputs.txt"
N=$(wc -l <"$work/inputs.txt")
mkdir -p "$work/state"
# as in docs/SCALING.md: one task per line of inputs.txt, then a dependent merge
jid=$(cd "$work" && timeout 30 sbatch --parsable --array=1-"$N" --cpus-per-task=1 \
	--output="$work/scan-%a.out" --wrap \
	"'$bin' scan -q -j 1 --fleet '$fleet' -o state/\$SLURM_ARRAY_TASK_ID.state \"\$(sed -n \${SLURM_ARRAY_TASK_ID}p inputs.txt)\"" \
	2>"$work/sbatch.err")
check_status $? "sbatch: a job array of $N scans (job $jid)"
mid=$(cd "$work" && timeout 30 sbatch --parsable --dependency=afterok:"$jid" --output="$work/merge.out" --wrap \
	"'$bin' merge -q --fleet '$fleet' --local-domain example.net -o out state/*.state" 2>>"$work/sbatch.err")
check_status $? "sbatch: a merge depending on the array (job $mid)"

queue_empty() { out=$(timeout 5 squeue -h -o %i 2>/dev/null) && [ -z "$out" ]; }
if wait_for 300 queue_empty; then
	pass "every job ended within 5 minutes"
else
	fail "every job ended within 5 minutes"
	timeout 10 squeue 2>&1 | sed 's/^/#   /'
fi
states() { timeout 10 scontrol -o show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort | uniq -c | tr -s ' ' | tr '\n' ' '; }
is "every scan task completed" "$(states "$jid")" " $N COMPLETED "
is "the merge completed" "$(states "$mid")" " 1 COMPLETED "
[ -s "$work/out/servers.csv" ] || {
	cat "$work/sbatch.err" "$work"/scan-*.out "$work/merge.out" 2>/dev/null | sed 's/^/#   /'
	for f in slurmctld.log slurmd.log; do show_log "$run/$f"; done
}

"$bin" analyze -q -j 2 --fleet "$fleet" --local-domain example.net -o "$work/whole" \
	$(cat "$work/inputs.txt") >/dev/null 2>&1
check_status $? "analyze over the same inputs"
d=0
for f in servers.csv exposed_addresses.csv timeline.csv input_stats.csv report.html; do
	cmp -s "$work/whole/$f" "$work/out/$f" || { d=1; echo "#   $f differs"; }
done
check_status $d "Slurm's merge of the array's states gives the same bytes as analyze"
# no other file either
diff -r "$work/whole" "$work/out" >/dev/null 2>&1
check_status $? "the same set of files"

done_testing
