#!/usr/bin/env bash
# Where the host's CPU goes on the HTTP hot path: `perf record -g` on a release `stratus serve` while wrk
# drives a route to a trivial Python handler, then a summary of the profile (the flame graph's top items).
#
#   bench/profile.sh [STRATUS_BINARY]    (default: this checkout's .build/release/stratus)
#
# Prints: requests/s and the host's CPU per request during the recording; the share of the host's samples
# per library (kernel, Swift runtime, stratus...); the top functions by self time; and the top Stratus,
# Hummingbird, GRDB and JSON frames by inclusive time. Installs wrk and perf (linux-perf) if missing. Env: SECONDS_
# (recording length, default 6), CONNECTIONS (default 32), PERF_DATA (keep the raw profile there).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="${1:-$HERE/../.build/release/stratus}"
RECORD="${SECONDS_:-6}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS=$(( CONNECTIONS < 2 ? 1 : 2 ))
[ -x "$BIN" ] || { echo "stratus binary not found or not executable: $BIN" >&2; exit 64; }

install() { # command package
    command -v "$1" >/dev/null && return 0
    echo "installing $2..." >&2
    apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$2" >/dev/null; }
}
install wrk wrk
install perf linux-perf

WORK="$(mktemp -d /tmp/stratus-profile.XXXXXX)"
DATA="${PERF_DATA:-$WORK/perf.data}"
PID=""
cleanup() {
    [ -n "$PID" ] && { kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

mkdir -p "$WORK/project/functions/hello" "$WORK/project/triggers"
printf 'runtime: python\nhandler: app.handler\nscaling: {min: 2, max: 8}\n' >"$WORK/project/functions/hello/function.yaml"
printf 'def handler(event, context):\n    return {"statusCode": 200, "body": "hello"}\n' >"$WORK/project/functions/hello/app.py"
printf 'http:\n  - route: GET /hello\n    function: hello\n' >"$WORK/project/triggers/http.yaml"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
HTTP_PORT="$(port)"
"$BIN" serve "$WORK/project" --http "127.0.0.1:$HTTP_PORT" --control "127.0.0.1:$(port)" --log-level warning \
    </dev/null >"$WORK/stratus.log" 2>&1 &
PID=$!
for _ in $(seq 300); do grep -q '^Ready\.' "$WORK/stratus.log" 2>/dev/null && break; sleep 0.1; done
grep -q '^Ready\.' "$WORK/stratus.log" || { cat "$WORK/stratus.log" >&2; exit 1; }
URL="http://127.0.0.1:$HTTP_PORT/hello"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$URL" >/dev/null # warm the pool

ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$((RECORD + 2))s" "$URL" >"$WORK/wrk.txt" &
WRK=$!
sleep 1
before="$(ticks)"
perf record -F 999 -g -p "$PID" -o "$DATA" -- sleep "$RECORD" >/dev/null 2>&1
after="$(ticks)"
wait "$WRK"
rps="$(awk '/^Requests\/sec:/{print $2}' "$WORK/wrk.txt")"
host_us="$(awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v r="$rps" -v s="$RECORD" \
    'BEGIN{printf "%.0f", (r>0)?t*1e6/hz/(r*s):0}')"

# The first N sample lines of a perf report matching a pattern, indented and cut to 150 columns. awk reads all
# its input, so no pipe is closed early (which `head` would do, failing the pipeline under pipefail).
top_lines() { awk -v n="$1" -v re="$2" '/%/ && !/^#/ && $0 ~ re && ++count <= n {print "  " substr($0, 1, 150)}'; }

echo "Host profile: GET /hello (trivial Python handler), wrk $CONNECTIONS connections, ${RECORD} s of perf record -g"
echo "  $rps requests/s; host CPU per request ~${host_us} us"
echo
echo "Samples by library (self time):"
perf report -i "$DATA" --no-children --sort dso --stdio -g none 2>/dev/null | top_lines 8 .
echo
echo "Top functions by self time:"
perf report -i "$DATA" --no-children --sort symbol --stdio -g none 2>/dev/null | top_lines 25 .
echo
echo "Stratus, Hummingbird, GRDB and JSON frames by inclusive time (children included):"
perf report -i "$DATA" --children --sort symbol --stdio -g none 2>/dev/null |
    top_lines 25 'Stratus|Hummingbird|GRDB|JSON'
