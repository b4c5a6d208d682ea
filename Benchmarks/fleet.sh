#!/usr/bin/env bash
# Calls per second with 1, 8 and 32 `bats simulate` processes on one PostgreSQL budget (one totals row: hot-row
# contention), direct on PostgreSQL and with budget leases, on loopback or through a delaying proxy.
#
#   Benchmarks/fleet.sh [CALLS=4000] [CONCURRENCY=16] [DELAY_MS_EACH_WAY=0]
#
# Needs a cluster from Scripts/pg-cluster (source its env file: BATS_TEST_POSTGRES_ADMIN_URL and passwords); each run
# gets a fresh database. DELAY_MS_EACH_WAY > 0 puts Benchmarks/delay-proxy.py in front of the server (2.5 gives
# about 5 ms of added round trip). CALLS are split evenly over the processes; the provider answers at once, so the
# ledger is what is measured; no call is critical (a critical call reserves on the server: two transactions). Prints one line per run: processes, mode, calls, wall seconds, calls/s, PostgreSQL
# transactions (from pg_stat_database) per 1,000 calls, and non-critical overspend (the audit's breaches; must be 0).
# Uses the release build in Benchmarks/.build (swift build -c release --product bats, run in Benchmarks/), or BATS_BINARY.
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-4000} conc=${2:-16} delay=${3:-0}
bats=${BATS_BINARY:-Benchmarks/.build/release/bats}
[ -x "$bats" ] || (cd Benchmarks && swift build -c release --product bats >/dev/null)
: "${BATS_TEST_POSTGRES_ADMIN_URL:?source a Scripts/pg-cluster env file first}"
port=$BATS_TEST_POSTGRES_PORT
dir=$(mktemp -d)
proxy_pid=
cleanup() { [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
[ -n "${BATS_FLEET_KEEP:-}" ] && trap '[ -n "$proxy_pid" ] && kill "$proxy_pid"; echo "kept $dir"' EXIT
if [ "$delay" != 0 ]; then
    pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    python3 Benchmarks/delay-proxy.py --listen 127.0.0.1:$pport --upstream 127.0.0.1:$port --delay-ms "$delay" >"$dir/proxy.log" 2>&1 &
    proxy_pid=$!
    sleep 0.5
    port=$pport
fi
admin() { PGPASSWORD=$BATS_TEST_POSTGRES_ADMIN_PASSWORD psql -qtA -h 127.0.0.1 -p "$BATS_TEST_POSTGRES_PORT" -U postgres -d postgres -c "$1"; }
export BATS_LEDGER_PASSWORD=$BATS_TEST_POSTGRES_PASSWORD
for procs in 1 8 32; do
    for mode in direct leases; do
        db="bench_${mode}_${procs}_$$"
        admin "CREATE DATABASE $db OWNER bats" >/dev/null
        url="postgres://bats@127.0.0.1:$port/$db"
        "$bats" simulate --ledger "$url" --tasks 0 --daily-budget 100000 --monthly-budget 1000000 >/dev/null 2>>"$dir/simulate.err"
        per=$((calls / procs))
        tx0=$(admin "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$db'")
        start=$(date +%s.%N)
        pids=()
        for i in $(seq 1 "$procs"); do
            extra=()
            [ "$mode" = leases ] && extra=(--leases --host "h$i" --journal "$dir/$db-h$i.journal")
            "$bats" simulate --ledger "$url" --tasks "$per" --concurrency "$conc" --failure-rate 0 --slow-rate 0 --cancel-rate 0 --critical-share 0 \
                --min-latency-us 0 --max-latency-us 0 --busy-timeout-ms 120000 --seed "$i" --request-prefix "p$i-" "${extra[@]}" > "$dir/$db-$i.json" 2>>"$dir/simulate.err" &
            pids+=($!)
        done
        wait "${pids[@]}"  # not the proxy
        end=$(date +%s.%N)
        sleep 1  # pg_stat_database is updated by the backends shortly after their transactions
        tx1=$(admin "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$db'")
        breaches=$("$bats" audit --ledger "$url" >/dev/null 2>"$dir/audit.err" && echo 0 || grep -c "budget breach" "$dir/audit.err")
        python3 - "$procs" "$mode" "$per" "$start" "$end" "$tx0" "$tx1" "$breaches" "$dir/$db" <<'PY'
import json, sys, glob
procs, mode, per, start, end, tx0, tx1, breaches, base = sys.argv[1:]
reports = [open(f).read().strip() for f in glob.glob(base + "-*.json")]
ok = sum(json.loads(r)["ok"] for r in reports if r)
failed = sum(1 for r in reports if not r)
n = int(procs) * int(per); wall = float(end) - float(start)
print(f"processes {procs:>2}  {mode:<6}  calls {n}  ok {ok}  wall {wall:6.2f} s  {n / wall:8.0f} calls/s  "
      f"{(int(tx1) - int(tx0)) * 1000 / n:7.1f} PostgreSQL tx per 1,000 calls  overspend breaches {breaches}"
      + (f"  ({failed} process(es) failed: see the kept simulate.err)" if failed else ""))
PY
        admin "DROP DATABASE $db" >/dev/null
    done
done
