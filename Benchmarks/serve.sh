#!/usr/bin/env bash
# Added latency and throughput of `bats serve`: wrk → nginx (fixed OpenAI replies) directly, against
# wrk → bats serve → the same nginx, on loopback, with an on-disk ledger and the budget on.
#
#   Benchmarks/serve.sh [SECONDS=10]
#
# Runs, each for SECONDS: JSON chat at 1 connection (latency), JSON chat at 64 connections (throughput), and a
# streamed chat at 1 connection (the upstream's whole stream is one write, so the reply's latency bounds the time to
# the first chunk). Needs Debian's wrk and nginx (apt-get install wrk nginx-light). Uses the release build
# (swift build -c release --product bats), or BATS_BINARY.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
bats=${BATS_BINARY:-.build/release/bats}
[ -x "$bats" ] || swift build -c release --product bats >/dev/null
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx: apt-get install wrk nginx-light" >&2; exit 2; }
dir=$(mktemp -d)
cleanup() {
    [ -f "$dir/bats.pid" ] && kill "$(cat "$dir/bats.pid")" 2>/dev/null || true
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    sleep 0.3
    rm -rf "$dir"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up=$(free_port)

chat='{"id":"chatcmpl-bench","object":"chat.completion","created":1764000000,"model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"AAPL 231.40"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}'
chunk='{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1764000000,"model":"deepseek-chat","choices":[{"index":0,"delta":{"content":"AAPL"},"finish_reason":null}]}'
last='{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1764000000,"model":"deepseek-chat","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}'
cat > "$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
daemon on;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_buffer_size 64k;
    server {
        listen 127.0.0.1:$up;
        location = /v1/chat/completions {
            if (\$request_body ~ '"stream":true') { rewrite ^ /stream last; }
            default_type application/json;
            return 200 '$chat';
        }
        location = /stream {
            internal;
            default_type text/event-stream;
            return 200 'data: $chunk\n\ndata: $last\n\ndata: [DONE]\n\n';
        }
    }
}
EOF
nginx -c "$dir/nginx.conf" -p "$dir"

port=$(free_port)
LLM_GATEWAY_BASE_URL="http://127.0.0.1:$up/v1" TARS_API_KEY="sk-bench-not-a-key" "$bats" serve --ledger "$dir/ledger.sqlite" \
    --port "$port" --daily-budget 1000000 --monthly-budget 10000000 --log-level error > "$dir/bats.out" 2> "$dir/bats.err" &
echo $! > "$dir/bats.pid"
for _ in $(seq 1 200); do grep -q "listening on" "$dir/bats.out" 2>/dev/null && break; sleep 0.05; done
grep -q "listening on" "$dir/bats.out" || { cat "$dir/bats.err" >&2; exit 1; }

for kind in json stream; do
    s=false; [ "$kind" = stream ] && s=true
    cat > "$dir/$kind.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"bats/simple","stream":$s,"max_tokens":64,"messages":[{"role":"user","content":"Quote AAPL"}]}'
done = function(summary, latency, requests)
  io.write(string.format("RESULT p50_us=%d p90_us=%d p99_us=%d rps=%.0f errors=%d requests=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
EOF
done

run() { # NAME URL SCRIPT CONNECTIONS THREADS
    wrk -t"$5" -c"$4" -d"${secs}s" -s "$dir/$3.lua" "$2/v1/chat/completions" > "$dir/$1.txt" 2>&1 || true
    local r; r=$(grep RESULT "$dir/$1.txt" || echo "RESULT failed")
    printf '%-28s %s\n' "$1" "${r#RESULT }"
}
echo "wrk ${secs}s per run; upstream nginx on :$up, bats serve on :$port ($(nproc) cores)"
run "upstream json c=1" "http://127.0.0.1:$up" json 1 1
run "bats json c=1" "http://127.0.0.1:$port" json 1 1
run "upstream stream c=1" "http://127.0.0.1:$up" stream 1 1
run "bats stream c=1" "http://127.0.0.1:$port" stream 1 1
run "upstream json c=64" "http://127.0.0.1:$up" json 64 2
run "bats json c=64" "http://127.0.0.1:$port" json 64 2
"$bats" audit --ledger "$dir/ledger.sqlite" --by model 2>/dev/null | head -5 || true
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^bats_open_reservations|^bats_requests_total' || true
