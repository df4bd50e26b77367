# Shared by the fast-path benchmark scripts (sourced, not run): json-bench, chunk-write-bench, chunk-read-bench,
# sse-read-bench, wire-bench, utf8-bench. Each runs JMH benchmarks that measure a hand-written fast path beside the
# library way it replaced, on the same input (each benchmark's set-up checks both give the same bytes or values).
#
#   fast_path_bench NAME BENCHMARK_CLASS... [-- JMH options...]
#
# Builds the benchmark jar if it is missing, runs the classes' benchmarks, prints JMH's own output, then one line
# per case:
#
#   NAME CASE LIBRARY_ns=N [STEP_ns=N] fast_ns=M ratio=R
#
# Each _ns is the median of the measured iterations (mean ns per operation in each). A benchmark's methods are
# `fast` (the fast path as Switchboard runs it), one named after the library way (`jackson`, `vertxSse`,
# `jdkDecoder`), and at most one step between the two (`tree`: the same tree written by JsonText; `scanner`: the
# full scan without the comparison with the last event). ratio is the library way's median over the fast path's:
# above 1, the fast path is faster.

fast_path_bench() {
  local name="$1"
  shift
  local includes=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    includes+=("\\.$1\\.")
    shift
  done
  if [[ "${1:-}" == "--" ]]; then
    shift
  fi
  local root bench_jar result
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
  cd "$root"
  bench_jar="load-tests/target/switchboard-bench.jar"
  if [[ ! -f "$bench_jar" ]]; then
    echo "$name-bench: building ($bench_jar is missing): ./mvnw -B -q -DskipTests package" >&2
    ./mvnw -B -q -DskipTests package
  fi
  result="$(mktemp "${TMPDIR:-/tmp}/$name-bench.XXXXXX.json")"
  # The trap names the file itself: the local variable is gone when the script exits.
  trap "rm -f '$result'" EXIT
  java -cp "$bench_jar" org.openjdk.jmh.Main "${includes[@]}" -rf json -rff "$result" "$@"
  echo
  python3 - "$result" "$name" <<'PY'
import json, statistics, sys

STEPS = ("tree", "scanner")
runs = json.load(open(sys.argv[1]))
name = sys.argv[2]
cases = {}
for run in runs:
    benchmark, method = run["benchmark"].rsplit(".", 1)
    case = ",".join(run.get("params", {}).values()) or benchmark.rsplit(".", 1)[1]
    scores = [score for fork in run["primaryMetric"]["rawData"] for score in fork]
    cases.setdefault((benchmark, case), {})[method] = statistics.median(scores)
for (benchmark, case), medians in cases.items():
    library = [m for m in medians if m != "fast" and m not in STEPS]
    steps = [m for m in STEPS if m in medians]
    ordered = library + steps + (["fast"] if "fast" in medians else [])
    line = "%s %s %s" % (name, case, " ".join("%s_ns=%.0f" % (m, medians[m]) for m in ordered))
    if len(library) == 1 and "fast" in medians and medians["fast"] > 0:
        line += " ratio=%.2f" % (medians[library[0]] / medians["fast"])
    print(line)
PY
}
