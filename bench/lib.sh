# Shared by bench/run and bench/applications (sourced): the server and wrk helpers.
# Expects BIN (the guichet binary), THREADS, and sets SERVER_PID, URL, r_* results.
SERVER_PID=""
# oha, the fixed-rate generator (scripts/install-bench-tools builds it)
OHA="${OHA:-${GUICHET_TOOLS_DIR:-/var/cache/guichet-tools}/cargo/bin/oha}"

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# start_guichet DATABASE_URL LOG [VAR=value...]: the release binary on a free loopback port,
# seeded, without the abuse limits (one client address sends everything); waits until ready.
start_guichet() {
  local db=$1 log=$2 port
  shift 2
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  URL="http://127.0.0.1:$port"
  env DATABASE_URL="$db" GUICHET_LISTEN="127.0.0.1:$port" GUICHET_PUBLIC_URL="$URL" \
    GUICHET_SEED=thun GUICHET_LOG=warn GUICHET_RATE_LIMIT_TOKEN_IP=0 GUICHET_RATE_LIMIT_TOKEN_ACCOUNT=0 \
    GUICHET_RATE_LIMIT_SIGNUP_IP=0 "$@" "$BIN" serve >>"$log" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; ; i++)); do
    curl -fsS -o /dev/null "$URL/health/ready" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench: server exited, see $log" >&2; exit 1; }
    ((i < 120)) || { echo "bench: server not ready after 60 s, see $log" >&2; exit 1; }
    sleep 0.5
  done
}

# The machine's neighbours. This kind of machine runs services that are not ours (RabbitMQ,
# MariaDB, NATS, Redis, Mosquitto; see the machine notes). RabbitMQ checks its epmd every 60 s
# by booting a throwaway Erlang VM ("-sname epmd-starter-N"): about 200 ms of CPU on both
# cores, its files read from disk again (the kernel's DAMON reclaim evicts them between two
# checks). On a machine at 70 % load that is a stall of 100-150 ms, and a 10 s fixed-rate run
# that holds one has a p99 of 20-50 ms however fast the server is (bench/README, "Noise").
# watch_neighbours DIR: notes the start of each such VM (epoch seconds) in DIR/neighbours.log,
# from the background, until stop_neighbours; run_wrk then sets r_neighbours to the number
# that started during its run (or in the second before it).
NEIGHBOURS_LOG="" NEIGHBOURS_PID=""
watch_neighbours() {
  NEIGHBOURS_LOG=$1/neighbours.log
  : >"$NEIGHBOURS_LOG"
  (
    last=""
    while sleep 0.25; do
      p=$(pgrep -n -f 'sname epmd-starter' || true)
      if [[ -n $p && $p != "$last" ]]; then date +%s.%N; last=$p; fi
    done
  ) >>"$NEIGHBOURS_LOG" 2>/dev/null &
  NEIGHBOURS_PID=$!
}
stop_neighbours() {
  [[ -z "$NEIGHBOURS_PID" ]] || { kill "$NEIGHBOURS_PID" 2>/dev/null || true; wait "$NEIGHBOURS_PID" 2>/dev/null || true; }
  NEIGHBOURS_PID=""
}
# neighbours_between START END (epoch seconds): how many of those VMs started in the window
neighbours_between() {
  [[ -n "$NEIGHBOURS_LOG" ]] || { echo 0; return; }
  awk -v a="$1" -v b="$2" '$1 >= a - 1 && $1 <= b { n++ } END { print n + 0 }' "$NEIGHBOURS_LOG"
}

r_rps="" r_p50_ms="" r_p99_ms="" r_p999_ms="" r_non2xx=0 r_socket_errors=0 r_errors=0 r_neighbours=0
# run_wrk LOG RATE WRK-ARGS...: runs wrk (paced when RATE > 0, see bench/lua/common.lua)
# and sets r_rps r_p50_ms r_p99_ms r_errors from the BENCH line its done() prints (and
# r_neighbours, see watch_neighbours). Warm-ups
# run with BENCH_SAMPLES=1: their failed answers are printed (the measured runs count them).
run_wrk() {
  local log=$1 rate=$2 line kv t0
  shift 2
  t0=$(date +%s.%N)
  BENCH_RATE=$rate BENCH_THREADS=$THREADS "$@" >"$log" 2>&1
  r_neighbours=$(neighbours_between "$t0" "$(date +%s.%N)")
  line=$(sed -n 's/^BENCH //p' "$log")
  [[ -n "$line" ]] || { echo "bench: no BENCH line in $log" >&2; cat "$log" >&2; exit 1; }
  for kv in $line; do printf -v "r_${kv%%=*}" '%s' "${kv#*=}"; done
  # what bench/lua/common.lua noticed: non-2xx samples (with BENCH_SAMPLES=1), repeats
  grep -E '^(non-2xx sample|warning:)' "$log" | sed "s|^|bench: $(basename "$log"): |" >&2 || true
  r_errors=$((r_non2xx + r_socket_errors))
}

# oha_fixed OUT RATE SECONDS OHA-ARGS...: a fixed-rate oha run corrected for coordinated
# omission (`--latency-correction`: every request is timed from the moment it was due), one
# second longer than SECONDS, of which only the last SECONDS count: oha opens its connections
# during the first second while requests fall due, and charges them for it (on the feed page
# 61-129 of the first 189 requests of a round took over 10 ms, against 1-8 in most later
# quarter-seconds; results/2026-12-09-feed-warm.txt). pgbench's runs in bench/tails are counted
# from their fourth second for the same reason. Every request is kept (`--db-url`,
# OUT.db), and those still in flight at the end are waited for (`-w`) rather than counted as
# errors; sets o_rps o_p50 o_p99 o_p999 (ms) of the counted ones and o_errors (non-2xx and
# failures of the whole run).
o_rps="" o_p50="" o_p99="" o_p999="" o_errors=0
oha_fixed() {
  local out=$1 rate=$2 secs=${3%s}
  shift 3
  rm -f "$out.db"
  "$OHA" --no-tui --output-format json \
    -z "$((secs + 1))s" -w -q "$rate" --latency-correction --db-url "$out.db" "$@" >"$out" 2>&1 ||
    { cat "$out" >&2; exit 1; }
  read -r o_rps o_p50 o_p99 o_p999 o_errors < <(python3 - "$out" "$secs" <<'PY'
import json, sqlite3, sys
out, secs = sys.argv[1], float(sys.argv[2])
# oha prints a line about the database after its JSON
r = json.loads("".join(l for l in open(out) if not l.startswith("Storing results")))
bad = sum(n for c, n in r.get("statusCodeDistribution", {}).items() if not c.startswith("2"))
bad += sum(r.get("errorDistribution", {}).values())
rows = sqlite3.connect(out + ".db").execute("SELECT coalesce(start_latency_correction, start), end FROM oha")
lat = sorted((end - due) * 1000 for due, end in rows if due >= 1.0)
if not lat:
    sys.exit("bench: oha recorded no request after its first second")
pick = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))]
print("%.1f %.3f %.3f %.3f %d" % (len(lat) / secs, pick(0.5), pick(0.99), pick(0.999), bad))
PY
  )
}

# oha_urls OUT RATE URLS TOKEN: oha_fixed at RATE over the URLs of the file URLS (oha picks one
# at random for each request) with one bearer token, CONNS connections, DURATION counted.
# Without Accept-Encoding, as wrk sends its requests: with oha's default (gzip, br) guichet
# compresses every answer, and one core's worth of gzip cut read_one's peak from ~14,000 to
# ~2,200 req/s (seen 2026-12-05, before http::compress; issue 21).
oha_urls() {
  oha_fixed "$1" "$2" "$DURATION" -c "$CONNS" --disable-compression -H "Authorization: Bearer $4" --urls-from-file "$3"
}

# rate_of RPS: the fixed rate at BENCH_RATE_PERCENT of a peak.
rate_of() {
  awk -v r="$1" -v p="$PERCENT" 'BEGIN { x = int(r * p / 100); print (x < 1 ? 1 : x) }'
}

# print_table ROWS HEADER: the tab-separated rows as an aligned table.
print_table() {
  { printf '%s\n' "$2"; cat "$1"; } | awk -F'\t' '{
    line = ""
    for (i = 1; i <= NF; i++) line = line (i > 1 ? " | " : "") sprintf(i <= 3 ? "%-22s" : "%9s", $i)
    print line
  }'
}
psql_() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
json_field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
BENCH_PW="bench password, long enough"
# bench_dataset DB_URL SIZE SERVE: bench/sql/dataset.sql's SIZE applications (with their
# residents and the police inspectorate's clerk, clerk@bench.invalid) in DB_URL's database,
# made anew unless BENCH_REUSE=1 finds at least SIZE there. SERVE (a function) starts guichet
# on the database (which migrates and seeds it); it is left running.
bench_dataset() {
  local db_url=$1 size=$2 serve=$3 name=${1##*/} pg=${1%/*} clerk t0
  if [[ ${BENCH_REUSE:-0} == 1 ]] &&
    [[ $(psql_ "$db_url" -c "SELECT count(*) >= $size FROM applications" 2>/dev/null) == t ]]; then
    echo "bench: reusing the dataset in $name"
    "$serve"
    return
  fi
  echo "bench: dataset of $size applications in $name"
  psql_ "$pg/postgres" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
  "$serve"
  curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"email\": \"template@bench.invalid\", \"password\": \"$BENCH_PW\"}" "$URL/v1/accounts"
  clerk=$(echo "$BENCH_PW" | DATABASE_URL="$db_url" GUICHET_LOG=warn "$BIN" user create --email clerk@bench.invalid \
    --role clerk --department polizeiinspektorat --password-stdin | json_field '["id"]')
  t0=$SECONDS
  psql_ "$db_url" -v apps="$size" -v accounts=$((size / 10 > 64 ? size / 10 : 64)) -v clerk="$clerk" \
    -v template=template@bench.invalid -f "$ROOT/bench/sql/dataset.sql"
  echo "bench: generated in $((SECONDS - t0)) s"
}
# the transition pool back to submitted, with step_log back to the dataset's two entries
# (draft, submitted): it grows by one with every move, and the department queue's first page
# at 1M shows pool applications (runs had grown theirs to 9-37 entries, 2.2 KB, against 2 at
# 10k: queue_department 1M/10k fell to 58.6 %). Before every transition run (bench/applications,
# bench/instructions), and on a reused dataset before its pool is rebuilt.
POOL_RESET="UPDATE applications SET phase = 'submitted', step = 'submitted', revision = 1,
    step_log = jsonb_path_query_array(step_log, '\$[0 to 1]')
  WHERE id IN (SELECT id FROM bench_pool) AND (phase <> 'submitted' OR jsonb_array_length(step_log) > 2)"
# bench_token EMAIL: an access token of a bench account (password BENCH_PW).
bench_token() {
  curl -fsS -d grant_type=password --data-urlencode "username=$1" --data-urlencode "password=$BENCH_PW" \
    "$URL/v1/oauth/token" | json_field '["access_token"]'
}
