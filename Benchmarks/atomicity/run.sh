#!/usr/bin/env bash
# The three ways to make a reservation atomic, measured with pgbench on a throwaway database: transactions per second,
# mean latency and retries with 1, 8 and 32 clients on the same two totals rows.
#   source DIR/env (Scripts/pg-cluster); Benchmarks/atomicity/run.sh [SECONDS=8]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-8}
bin=$(dirname "$BATS_TEST_POSTGRES_CTL")
export PGPASSWORD=$BATS_TEST_POSTGRES_PASSWORD PGHOST=127.0.0.1 PGPORT=$BATS_TEST_POSTGRES_PORT PGUSER=bats PGDATABASE=bats
for script in for-update conditional-update serializable; do
    for c in 1 8 32; do
        "$bin/psql" -q -f schema.sql 2>/dev/null
        out=$("$bin/pgbench" -n -f "$script.sql" -c "$c" -j 2 -T "$secs" --max-tries=1000 2>&1)
        tps=$(grep -oP 'tps = \K[0-9.]+' <<<"$out" | head -1)
        lat=$(grep -oP 'latency average = \K[0-9.]+' <<<"$out")
        retried=$(grep -oP 'number of transactions retried: \K[0-9]+' <<<"$out" || echo 0)
        printf '%-19s clients %2d  %8.0f tx/s  %7.2f ms mean  retried %s\n' "$script" "$c" "$tps" "$lat" "$retried"
    done
done
"$bin/psql" -q -c "DROP TABLE IF EXISTS st, win, ent" 2>/dev/null
