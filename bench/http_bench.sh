#!/usr/bin/env bash
# HTTP benchmark: Stratus HTTP gateway vs Google's functions-framework, same trivial handler.
#
#   bench/http_bench.sh [STRATUS_BINARY]    (default: this checkout's .build/release/stratus)
#
# Installs wrk if missing (apt-get), makes/reuses a venv with functions-framework, starts both
# servers on 127.0.0.1 only, runs wrk at 1 and 32 connections against /hello, prints a table
# and the Stratus/functions-framework throughput ratio at 32 connections. Both servers are
# stopped on exit (trap). Env: DURATION (default 10s), STRATUS_PORT, FF_PORT, BENCH_VENV.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="${1:-$HERE/../.build/release/stratus}"
DURATION="${DURATION:-10s}"
APP="$HERE/http_app"

TARGET_RATIO=5      # Stratus req/s >= 5x functions-framework at 32 connections
TARGET_P99_MS=10    # Stratus p99 <= 10 ms (checked at both connection counts)
TARGET_HOST_US=60   # host CPU (utime + stime of the stratus process) per request at 32 connections

[ -x "$BIN" ] || { echo "stratus binary not found or not executable: $BIN" >&2; exit 64; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
STRATUS_PORT="${STRATUS_PORT:-$(free_port)}"
CONTROL_PORT="$(free_port)"
FF_PORT="${FF_PORT:-$(free_port)}"

WORK="$(mktemp -d /tmp/stratus-http-bench.XXXXXX)"
STRATUS_PID=""; FF_PID=""
cleanup() {
    for pid in $STRATUS_PID $FF_PID; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $STRATUS_PID $FF_PID; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# --- tools -------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    echo "installing wrk..." >&2
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
if [ -n "${BENCH_VENV:-}" ]; then VENV="$BENCH_VENV"
elif [ -x "$HERE/../.venv/bin/functions-framework" ]; then VENV="$HERE/../.venv"
else VENV=/tmp/stratus-bench-venv; fi
if [ ! -x "$VENV/bin/functions-framework" ]; then
    echo "creating venv $VENV with functions-framework..." >&2
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q functions-framework >&2
fi

# --- handler files (bench/http_app, created if absent) ------------------------------------
mkdir -p "$APP/stratus/functions/hello" "$APP/stratus/triggers"
[ -f "$APP/stratus/functions/hello/function.yaml" ] ||
    printf 'runtime: python\nhandler: app.handler\nscaling: {min: 2, max: 8}\n' >"$APP/stratus/functions/hello/function.yaml"
[ -f "$APP/stratus/functions/hello/app.py" ] ||
    printf 'def handler(event, context):\n    return {"statusCode": 200, "body": "hello"}\n' >"$APP/stratus/functions/hello/app.py"
[ -f "$APP/stratus/triggers/http.yaml" ] ||
    printf 'http:\n  - route: GET /hello\n    function: hello\n' >"$APP/stratus/triggers/http.yaml"
[ -f "$APP/ff_main.py" ] ||
    printf 'def handler(request):\n    return "hello"\n' >"$APP/ff_main.py"

wait_http() { # url pid name
    for _ in $(seq 300); do
        kill -0 "$2" 2>/dev/null || { echo "$3 exited during startup" >&2; return 1; }
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" = 200 ] && return 0
        sleep 0.1
    done
    echo "$3 did not answer 200 on $1" >&2; return 1
}

# --- Stratus -----------------------------------------------------------------------------
"$BIN" serve "$APP/stratus" --http "127.0.0.1:$STRATUS_PORT" --control "127.0.0.1:$CONTROL_PORT" \
    --state "$WORK/state" --log-level warning >"$WORK/stratus.log" 2>&1 &
STRATUS_PID=$!
for _ in $(seq 300); do
    grep -q '^Ready\.' "$WORK/stratus.log" 2>/dev/null && break
    kill -0 "$STRATUS_PID" 2>/dev/null || { cat "$WORK/stratus.log" >&2; exit 1; }
    sleep 0.1
done
grep -q '^Ready\.' "$WORK/stratus.log" || { echo "stratus not ready" >&2; cat "$WORK/stratus.log" >&2; exit 1; }
wait_http "http://127.0.0.1:$STRATUS_PORT/hello" "$STRATUS_PID" stratus || { cat "$WORK/stratus.log" >&2; exit 1; }

# --- functions-framework -----------------------------------------------------------------
(cd "$APP" && exec "$VENV/bin/functions-framework" --target=handler --source=ff_main.py \
    --host 127.0.0.1 --port "$FF_PORT") >"$WORK/ff.log" 2>&1 &
FF_PID=$!
wait_http "http://127.0.0.1:$FF_PORT/hello" "$FF_PID" functions-framework || { cat "$WORK/ff.log" >&2; exit 1; }

# --- wrk ---------------------------------------------------------------------------------
to_ms() { # wrk latency like 512.00us / 1.23ms / 1.01s -> ms
    awk -v v="$1" 'BEGIN{ n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /m$/) n*=60000; else if (v ~ /s$/) n*=1000; printf "%.2f", n }'
}
declare -A RPS P50 P99 ERR HOST_US
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of a process, in clock ticks
run() { # name port threads conns
    local before; before="$(ticks "$STRATUS_PID")"
    local out; out="$(wrk -t"$3" -c"$4" -d"$DURATION" --latency "http://127.0.0.1:$2/hello")"
    if [ "$1" = stratus ]; then
        local requests; requests="$(awk '/requests in/{print $1}' <<<"$out")"
        HOST_US[$4]="$(awk -v t="$(( $(ticks "$STRATUS_PID") - before ))" -v hz="$(getconf CLK_TCK)" -v n="$requests" \
            'BEGIN{printf "%.0f", (n>0)?t*1e6/hz/n:0}')"
    fi
    echo "$out" >"$WORK/wrk-$1-$4.txt"
    RPS[$1,$4]="$(awk '/^Requests\/sec:/{print $2}' <<<"$out")"
    P50[$1,$4]="$(to_ms "$(awk '$1=="50%"{print $2}' <<<"$out")")"
    P99[$1,$4]="$(to_ms "$(awk '$1=="99%"{print $2}' <<<"$out")")"
    ERR[$1,$4]="$(awk '/Non-2xx|Socket errors/{sub(/^ +/,""); printf "%s; ", $0}' <<<"$out")"
}
# warm-up (not reported): fill worker pools / JIT caches
wrk -t2 -c32 -d2s "http://127.0.0.1:$STRATUS_PORT/hello" >/dev/null
wrk -t2 -c32 -d2s "http://127.0.0.1:$FF_PORT/hello" >/dev/null
for spec in "1 1" "2 32"; do
    set -- $spec
    run stratus "$STRATUS_PORT" "$1" "$2"
    run functions-framework "$FF_PORT" "$1" "$2"
done

# --- report ------------------------------------------------------------------------------
echo
echo "HTTP benchmark: GET /hello, trivial handler, wrk --latency, $DURATION per run, 127.0.0.1"
echo "Targets: Stratus >= ${TARGET_RATIO}x functions-framework req/s at 32 connections; Stratus p99 <= ${TARGET_P99_MS} ms"
echo
printf '%-20s %5s %12s %10s %10s\n' target conns req/s p50_ms p99_ms
for c in 1 32; do
    for t in stratus functions-framework; do
        printf '%-20s %5s %12s %10s %10s\n' "$t" "$c" "${RPS[$t,$c]}" "${P50[$t,$c]}" "${P99[$t,$c]}"
    done
done
for k in "${!ERR[@]}"; do [ -n "${ERR[$k]}" ] && echo "errors ($k): ${ERR[$k]}"; done
echo
ratio="$(awk -v a="${RPS[stratus,32]}" -v b="${RPS[functions-framework,32]}" 'BEGIN{printf "%.2f", (b>0)?a/b:0}')"
ok_ratio="$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN{print (r>=t)?"MET":"MISSED"}')"
ok_p99="$(awk -v a="${P99[stratus,1]}" -v b="${P99[stratus,32]}" -v t="$TARGET_P99_MS" 'BEGIN{print (a<=t && b<=t)?"MET":"MISSED"}')"
echo "ratio Stratus/functions-framework @32 conns: ${ratio}x  (target >= ${TARGET_RATIO}x: $ok_ratio)"
echo "Stratus p99: ${P99[stratus,1]} ms @1, ${P99[stratus,32]} ms @32  (target <= ${TARGET_P99_MS} ms: $ok_p99)"
ok_host="$(awk -v a="${HOST_US[32]}" -v t="$TARGET_HOST_US" 'BEGIN{print (a<=t)?"MET":"MISSED"}')"
echo "Stratus host CPU per request: ${HOST_US[1]} us @1, ${HOST_US[32]} us @32  (target <= ${TARGET_HOST_US} us @32: $ok_host)"
