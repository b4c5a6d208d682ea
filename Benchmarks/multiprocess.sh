#!/usr/bin/env bash
# Reservation latency with several processes sharing one ledger file: N × `bats simulate` at once against the same
# file, then each process's p50 / p99 / p99.9 / max reservation latency, and the worst p99.9 against the target.
#
#   Benchmarks/multiprocess.sh [PROCESSES=4] [TASKS=2500] [CONCURRENCY=64] [TARGET_P999_MS=50]
#
# Uses the release build (swift build -c release --product bats), or BATS_BINARY. Exits 1 when the worst p99.9 misses the target.
set -euo pipefail
cd "$(dirname "$0")/.."
procs=${1:-4} tasks=${2:-2500} conc=${3:-64} target_ms=${4:-50}
bats=${BATS_BINARY:-.build/release/bats}
[ -x "$bats" ] || swift build -c release --product bats >/dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for i in $(seq 1 "$procs"); do
    "$bats" simulate --ledger "$dir/ledger.sqlite" --tasks "$tasks" --concurrency "$conc" --failure-rate 0.1 --slow-rate 0.02 \
        --cancel-rate 0.05 --daily-budget 8 --seed "$i" --request-prefix "p$i" > "$dir/p$i.json" &
done
wait
worst=0
for i in $(seq 1 "$procs"); do
    python3 - "$dir/p$i.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[1].rsplit('/',1)[1]}: ok {r['ok']} refused {r['refused']} p50 {r['reserve_p50_us']:.0f} µs  p99 {r['reserve_p99_us']:.0f} µs  p99.9 {r['reserve_p999_us']:.0f} µs  max {r['reserve_max_us']:.0f} µs")
PY
    p=$(python3 -c "import json,sys; print(int(json.load(open(sys.argv[1]))['reserve_p999_us']))" "$dir/p$i.json")
    [ "$p" -gt "$worst" ] && worst=$p
done
echo "worst p99.9: $((worst / 1000)) ms (target ${target_ms} ms)"
[ "$worst" -le $((target_ms * 1000)) ]
