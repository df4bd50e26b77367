# Shared by the benchmark scripts (sourced, not run): start Switchboard nodes in the background, wait for them,
# and stop exactly the processes started here, by PID, however the script exits.
#
# The sourcing script sets BENCH_NAME (log prefix), PORT and STARTUP_TIMEOUT_S, and may set KEEP_LOGS=1.
# It calls bench_begin once, then start_node / wait_for, and sets STATUS=ok when it succeeded.

NODE_JAR="${BENCH_NODE_JAR:-node/target/switchboard.jar}"
# Nodes run as the README runs them, on the parallel collector (docs/operations.md, "JVM and network settings"):
# BENCH_NODE_GC_OPTS= (empty) gives them the JVM's default collector, G1, instead. BENCH_NODE_JAVA_OPTS adds options.
NODE_JAVA_OPTS="${BENCH_NODE_GC_OPTS--XX:+UseParallelGC} ${BENCH_NODE_JAVA_OPTS:-}"
BENCH_JAR="load-tests/target/switchboard-bench.jar"
PIDS=()
STATUS=failed

log() { echo "$BENCH_NAME: $*" >&2; }

bench_begin() {
  if [[ ! -f "$NODE_JAR" || ! -f "$BENCH_JAR" ]]; then
    log "building ($NODE_JAR or $BENCH_JAR is missing): ./mvnw -B -q -DskipTests package"
    ./mvnw -B -q -DskipTests package
  fi
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/" 2>/dev/null; then
    log "something already listens on 127.0.0.1:$PORT; stop it or choose another port"
    exit 1
  fi
  LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/$BENCH_NAME.XXXXXX")"
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  # The nodes drain and leave the cluster; give them a while, then force.
  local deadline=$((SECONDS + 45))
  for pid in "${PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "process $pid did not stop within 45 s of SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [[ "$STATUS" == ok && "${KEEP_LOGS:-0}" != 1 ]]; then
    rm -rf "$LOG_DIR"
  else
    local f
    for f in "$LOG_DIR"/*.log; do
      [[ -f "$f" ]] || continue
      if [[ "$STATUS" != ok ]]; then
        log "last lines of $f:"
        tail -n 20 "$f" >&2 || true
      fi
    done
    log "node logs kept in $LOG_DIR"
  fi
  exit "$rc"
}

start_node() { # name, args...
  local name="$1"
  shift
  java $NODE_JAVA_OPTS -jar "$NODE_JAR" "$@" >"$LOG_DIR/$name.log" 2>&1 &
  PIDS+=("$!")
  log "started $name node, pid $! (java $NODE_JAVA_OPTS -jar $NODE_JAR $*), log $LOG_DIR/$name.log"
}

alive_or_die() {
  local pid
  for pid in "${PIDS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "node $pid exited during startup"
      exit 1
    fi
  done
}

# wait_for DESCRIPTION COMMAND...: polls COMMAND until it succeeds, the timeout passes or a node dies.
wait_for() {
  local what="$1"
  shift
  local deadline=$((SECONDS + STARTUP_TIMEOUT_S))
  until "$@"; do
    alive_or_die
    if ((SECONDS >= deadline)); then
      log "timed out after ${STARTUP_TIMEOUT_S} s waiting for $what"
      exit 1
    fi
    sleep 0.5
  done
  log "$what: ok"
}

health_ok() {
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/health" || true)" == 200 ]]
}

# routable_workers N: /admin/cluster lists at least N routable workers.
routable_workers() {
  local body
  body="$(curl -s --max-time 2 "http://127.0.0.1:$PORT/admin/cluster" || true)"
  [[ "$(grep -o '"status":"routable"' <<<"$body" | wc -l)" -ge "$1" ]]
}

# run_tracked COMMAND...: runs COMMAND in the background, tracked for cleanup, and waits for it (so that a
# signal to the script is handled at once: bash runs traps only between foreground commands).
run_tracked() {
  "$@" &
  local pid=$!
  PIDS=("$pid" "${PIDS[@]}")
  wait "$pid"
}
