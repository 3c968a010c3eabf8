#!/usr/bin/env bash
# Benchmark of the books API against local PostgreSQL and Redis, compared to a
# minimal stdlib server returning a book-sized JSON body (the ceiling).
#
# Everything runs on loopback; each wrk run is bounded (DURATION, default
# 10s; 2 threads; 32 connections). Needs: go, psql, curl, base64, wrk (the
# script installs Debian's wrk when missing), PostgreSQL at $ADMIN_URL, and
# redis-server + redis-cli (a private server on $PORT_REDIS) unless
# BENCH_REDIS_URL names a Redis to use.
#
#   bash bench/bench.sh            # from app/, or: make bench
set -euo pipefail

cd "$(dirname "$0")/.."
ADMIN_URL=${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
PORT_REDIS=${PORT_REDIS:-18084}
REDIS=${BENCH_REDIS_URL:-}
DB=books_bench
DB_URL=${ADMIN_URL/\/postgres\?/\/$DB?}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
PORT_CACHED=${PORT_CACHED:-18081}
PORT_NOCACHE=${PORT_NOCACHE:-18082}
PORT_CEILING=${PORT_CEILING:-18083}
PORT_REDISONLY=${PORT_REDISONLY:-18085}
PORT_FLOOR=${PORT_FLOOR:-18086}
PASSWORD=bench-password
AUTH="Authorization: Basic $(printf 'books:%s' "$PASSWORD" | base64)"
OUT=bench/results
mkdir -p "$OUT" bin

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi

echo "building" >&2
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o bin/books ./cmd/books
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o bin/ceiling ./bench/ceiling
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o bin/floor ./bench/floor

export PGOPTIONS="--client-min-messages=warning"
psql -q -v ON_ERROR_STOP=1 "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# A private redis-server (unless BENCH_REDIS_URL is given), so the cached
# scenario does not share its Redis with whatever else uses the machine's.
if [ -z "$REDIS" ]; then
  redis-server --port "$PORT_REDIS" --bind 127.0.0.1 --save "" --appendonly no >"$OUT/redis.log" 2>&1 &
  PIDS+=($!)
  REDIS="redis://127.0.0.1:$PORT_REDIS/0"
  for _ in $(seq 50); do
    [ "$(redis-cli -p "$PORT_REDIS" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
  done
fi

start_app() { # port, extra env...
  local port=$1; shift
  env -i PATH="$PATH" PGPASSWORD="${PGPASSWORD:-}" PORT="$port" DATABASE_URL="$DB_URL" BASIC_AUTH_PASSWORD="$PASSWORD" "$@" \
    bin/books >"$OUT/app-$port.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "app on port $port did not start" >&2; cat "$OUT/app-$port.log" >&2; exit 1
}

# CACHE_TIMEOUT is raised from the 100ms default: on a starved machine Redis
# calls time out and the app (correctly) falls back to PostgreSQL, which
# would measure the fallback instead of the cache. The run reports the
# cache outcomes it saw (from the EMF lines) so a degraded run shows.
start_app "$PORT_CACHED" REDIS_URL="$REDIS" CACHE_TIMEOUT="${BENCH_CACHE_TIMEOUT:-1s}"
APP_PID=${PIDS[-1]} # the cached instance just started
start_app "$PORT_NOCACHE" CACHE_DISABLED=true
# The same cache without the near tier: what a hit costs when it is a Redis
# round trip.
start_app "$PORT_REDISONLY" REDIS_URL="$REDIS" CACHE_TIMEOUT="${BENCH_CACHE_TIMEOUT:-1s}" CACHE_NEAR_ENTRIES=0

echo "seeding 200 books" >&2
for i in $(seq 200); do
  curl -fs -u "books:$PASSWORD" -H 'Content-Type: application/json' \
    -d "{\"title\":\"Seed book $i\",\"author\":\"Author $((i % 10))\",\"year\":$((1900 + i % 120))}" \
    "http://127.0.0.1:$PORT_CACHED/book" >/dev/null
done
BOOK=$(curl -fs -u "books:$PASSWORD" -H 'Content-Type: application/json' \
  -d '{"title":"The Benchmark Book","author":"Bench Marker","year":2024}' "http://127.0.0.1:$PORT_CACHED/book")
ID=$(printf '%s' "$BOOK" | sed -E 's/.*"id":"([^"]+)".*/\1/')
curl -fs -u "books:$PASSWORD" "http://127.0.0.1:$PORT_CACHED/book/$ID" >"$OUT/book.json"

bin/ceiling -addr "127.0.0.1:$PORT_CEILING" -body "$OUT/book.json" >"$OUT/ceiling.log" 2>&1 &
PIDS+=($!)
# The database floor: the app's SQL and pool size, nothing else (the
# schema is there: the apps migrated it).
bin/floor -addr "127.0.0.1:$PORT_FLOOR" -db "$DB_URL" >"$OUT/floor.log" 2>&1 &
PIDS+=($!)
sleep 0.3

# to_ms converts wrk's latency (e.g. 512.00us, 1.20ms, 1.01s) to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
    else print v }'
}

declare -A RPS P50 P99
run() { # name, url, extra wrk args...
  local name=$1 url=$2; shift 2
  echo "wrk: $name ($DURATION)" >&2
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "$AUTH" "$@" "$url" >"$OUT/$name.txt"
  RPS[$name]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$OUT/$name.txt")
  P50[$name]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$OUT/$name.txt")")
  P99[$name]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$OUT/$name.txt")")
  if grep -q "Non-2xx" "$OUT/$name.txt"; then
    echo "warning: $name had non-2xx responses: $(grep Non-2xx "$OUT/$name.txt")" >&2
  fi
}

# sockets counts the open sockets of the cached app (client connections,
# pool connections to PostgreSQL and Redis).
sockets() { find "/proc/$APP_PID/fd" -lname 'socket:*' 2>/dev/null | wc -l; }

curl -fs -u "books:$PASSWORD" "http://127.0.0.1:$PORT_CACHED/book/$ID" >/dev/null # fill the cache
SOCKETS_BEFORE=$(sockets)
run ceiling "http://127.0.0.1:$PORT_CEILING/book/$ID"
run get_cached "http://127.0.0.1:$PORT_CACHED/book/$ID"
curl -fs -u "books:$PASSWORD" "http://127.0.0.1:$PORT_REDISONLY/book/$ID" >/dev/null
run get_redis "http://127.0.0.1:$PORT_REDISONLY/book/$ID"
run get_nocache "http://127.0.0.1:$PORT_NOCACHE/book/$ID"
run floor_get "http://127.0.0.1:$PORT_FLOOR/book/$ID"
run floor_get_coalesced "http://127.0.0.1:$PORT_FLOOR/coalesced/$ID"
run list_20 "http://127.0.0.1:$PORT_CACHED/book?limit=20"
run floor_list "http://127.0.0.1:$PORT_FLOOR/book?limit=20"
run post "http://127.0.0.1:$PORT_CACHED/book" -s bench/post.lua
run floor_post "http://127.0.0.1:$PORT_FLOOR/book" -s bench/post.lua
sleep 1 # wrk's connections close
SOCKETS_AFTER=$(sockets)
RSS_PEAK_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$APP_PID/status")
RSS_NOW_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$APP_PID/status")
kill -TERM "$APP_PID" 2>/dev/null || true # it flushes its last metrics (the cache outcomes below)
wait "$APP_PID" 2>/dev/null || true

# Allocations per request: the handler benchmarks (whole handler chain
# in-process against the same PostgreSQL and Redis, no network).
echo "go test -bench (allocations per request)" >&2
go test ./http -run '^$' -bench 'GetBookCached|GetBookRedisOnly|GetBookUncached|ListBooks20|CreateBook' \
  -benchmem -benchtime 2000x >"$OUT/handler-bench.txt" 2>&1
declare -A ALLOCS
for pair in get_cached:GetBookCached get_redis:GetBookRedisOnly get_nocache:GetBookUncached list_20:ListBooks20 post:CreateBook; do
  ALLOCS[${pair%%:*}]=$(awk -v b="Benchmark${pair#*:}-" 'index($1, b) == 1 {print $(NF-1)}' "$OUT/handler-bench.txt")
done
ALLOCS[ceiling]="–"
# Each database-bound scenario against the floor's same request.
declare -A FLOOR=([get_nocache]=floor_get [list_20]=floor_list [post]=floor_post)

{
  echo "| scenario | req/s | p50 ms | p99 ms | vs ceiling | vs floor | allocs/req |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for s in ceiling get_cached get_redis get_nocache floor_get floor_get_coalesced list_20 floor_list post floor_post; do
    label=$s
    case $s in
      ceiling) label="ceiling (stdlib, fixed book JSON)";;
      get_cached) label="GET /book/{id}, cache hit (near tier, the default)";;
      get_redis) label="GET /book/{id}, Redis hit (CACHE_NEAR_ENTRIES=0)";;
      get_nocache) label="GET /book/{id}, cache disabled";;
      list_20) label="GET /book?limit=20";;
      post) label="POST /book";;
      floor_get) label="floor: GET by id (stdlib + pgx, the app's SQL)";;
      floor_get_coalesced) label="floor: GET by id, concurrent reads in one query";;
      floor_list) label="floor: list of 20";;
      floor_post) label="floor: POST";;
    esac
    ratio=$(awk -v a="${RPS[$s]}" -v b="${RPS[ceiling]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    vs_floor="–"
    if [ -n "${FLOOR[$s]:-}" ]; then
      vs_floor=$(awk -v a="${RPS[$s]}" -v b="${RPS[${FLOOR[$s]}]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    fi
    allocs=${ALLOCS[$s]:-?}
    case $s in floor_*) allocs="–";; esac
    echo "| $label | ${RPS[$s]} | ${P50[$s]} | ${P99[$s]} | $ratio | $vs_floor | $allocs |"
  done
  echo
  awk -F'[:,]' '/"CacheErrors":/ {
      for (i = 1; i < NF; i++) { if ($i ~ /"CacheErrors"/) e += $(i+1); if ($i ~ /"CacheHits"/) h += $(i+1); if ($i ~ /"CacheMisses"/) m += $(i+1) }
    } END { printf "Cached app, cache outcomes of all runs: %d hits, %d misses, %d errors (reads served from PostgreSQL after a cache timeout).\n", h, m, e }' "$OUT/app-$PORT_CACHED.log"
  grep -h '"msg":"near cache"' "$OUT/app-$PORT_CACHED.log" | tail -1 | sed -E 's/.*"hits":([0-9]+).*"barriers":([0-9]+).*/Cached app, near tier: \1 reads served from memory, \2 barrier PINGs (reads per PING: shared barriers)./'
  echo "Cached app: peak RSS $((RSS_PEAK_KB / 1024)) MiB (now $((RSS_NOW_KB / 1024)) MiB); open sockets $SOCKETS_BEFORE before the runs, $SOCKETS_AFTER after."
  echo "wrk -t$THREADS -c$CONNS -d$DURATION on loopback, $(nproc) CPUs shared by wrk, the app, PostgreSQL and Redis; $(go env GOVERSION); book body $(wc -c <"$OUT/book.json") bytes."
} | tee "$OUT/table.md"
