#!/usr/bin/env bash
# Builds the libFuzzer binaries of every Go fuzz target and runs each briefly.
#
#   fuzz/libfuzzer/build.sh build     build into $OUT (../oss-fuzz/build.sh)
#   fuzz/libfuzzer/build.sh selftest  prove a failing property is a saved crash
#   fuzz/libfuzzer/build.sh smoke     build, selftest, then run every target for
#                                     $SMOKE_TIME s on its seed corpus with the
#                                     dictionary, and minimize one corpus with
#                                     both engines (default)
#
# Exits non-zero on any crash; the crashing input is kept in
# $OUT/artifacts/ and `hitless corpus crashers` turns it into a Go
# regression input. Needs clang with libFuzzer (Debian: clang
# libclang-rt-14-dev). Environment: OUT (default $TMPDIR/hitless-libfuzzer),
# SMOKE_TIME (10), GO (go), CXX (clang++), and what ../oss-fuzz/build.sh reads.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export OUT="${OUT:-${TMPDIR:-/tmp}/hitless-libfuzzer}"
SMOKE_TIME="${SMOKE_TIME:-10}"
GO="${GO:-go}"
CXX="${CXX:-clang++}"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

build() { "$root/fuzz/oss-fuzz/build.sh"; }

tool() {
  [ -x "$work/hitless" ] || "$GO" build -o "$work/hitless" ./cmd/hitless
  "$work/hitless" "$@"
}

# selftest builds an entry that fails on purpose and checks, for a failed
# property and for a panic, that libFuzzer reports a crash, saves the input
# and that the crasher converts into a Go regression input.
selftest() {
  "$GO" build -tags libfuzzer "-gcflags=github.com/hitless-ike/hitless/...=-d=libfuzzer" \
    -buildmode=c-archive -o "$work/selftest.a" ./fuzz/libfuzzer/internal/selftest
  $CXX -fsanitize=fuzzer "$work/selftest.a" -lpthread -o "$work/selftest"
  for input in fatal panic; do
    d="$work/selftest-$input"
    mkdir -p "$d/seeds" "$d/corpus"
    printf '%s' "$input" >"$d/seeds/input"
    if "$work/selftest" -max_total_time=5 -artifact_prefix="$d/" "$d/corpus" "$d/seeds" >"$d/log" 2>&1; then
      echo "selftest: input $input did not crash libFuzzer" >&2
      cat "$d/log" >&2
      exit 1
    fi
    crash=("$d"/crash-*)
    if ! grep -q 'deadly signal' "$d/log" || ! grep -q "^fuzz: " "$d/log" ||
      [ ! -f "${crash[0]}" ] || [ "$(cat "${crash[0]}")" != "$input" ]; then
      echo "selftest: input $input: no crash report or saved input" >&2
      cat "$d/log" >&2
      exit 1
    fi
    tool corpus crashers --target FuzzParse --out "$d/go" "${crash[0]}" >/dev/null
    if ! grep -q '^go test fuzz v1$' "$d"/go/FuzzParse/*; then
      echo "selftest: crasher not converted to a Go input" >&2
      exit 1
    fi
  done
  echo "selftest: failed properties and panics are libFuzzer crashes, inputs saved and converted"
}

smoke() {
  build
  selftest
  mkdir -p "$OUT/artifacts"
  status=0
  for bin in "$OUT"/Fuzz*; do
    case "$bin" in *.dict | *.options | *.zip) continue ;; esac
    t="$(basename "$bin")"
    seeds="$work/seeds/$t" corpus="$work/corpus/$t"
    mkdir -p "$corpus"
    tool corpus export --target "$t" --format libfuzzer --out "$seeds" >/dev/null
    if ! "$bin" -max_total_time="$SMOKE_TIME" -dict="$OUT/$t.dict" -max_len=4096 \
      -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t-" \
      "$corpus" "$seeds" >"$work/$t.log" 2>&1; then
      echo "smoke: $t CRASHED; reproduce with $bin $OUT/artifacts/$t-crash-*" >&2
      echo "smoke: keep it as a Go regression input with:" >&2
      echo "  hitless corpus crashers --target $t $OUT/artifacts/$t-crash-*" >&2
      grep -v '^"' "$work/$t.log" | tail -40 >&2
      status=1
      continue
    fi
    cov="$(sed -n 's/.*INITED cov: \([0-9]*\) ft: \([0-9]*\).*/\1 (ft \2)/p' "$work/$t.log")"
    done_cov="$(sed -n 's/.*DONE *cov: \([0-9]*\) ft: \([0-9]*\).*/\1 (ft \2)/p' "$work/$t.log")"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t.log")"
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")"
    echo "smoke: $t ok: $runs runs, $rate execs/s; cov seeds $cov, after ${SMOKE_TIME}s $done_cov"
  done
  [ "$status" = 0 ] || exit 1

  # Minimize the parse corpus with both engines; each keeps a non-empty
  # subset no larger than the corpus.
  all="$(find corpus/parse -maxdepth 1 -name '????????????????????????????????????????????????????????????????' | wc -l)"
  for engine in libfuzzer go; do
    flags=()
    [ "$engine" = libfuzzer ] && flags=(--libfuzzer "$OUT/FuzzParse")
    line="$(tool corpus minimize --target FuzzParse "${flags[@]}" --out "$work/min-$engine")"
    kept="$(find "$work/min-$engine" -type f | wc -l)"
    if [ "$kept" -lt 1 ] || [ "$kept" -gt "$all" ]; then
      echo "smoke: minimize ($engine) kept $kept of $all inputs" >&2
      exit 1
    fi
    echo "smoke: minimize: $line"
  done
}

case "${1:-smoke}" in
build) build ;;
selftest) selftest ;;
smoke) smoke ;;
*)
  echo "usage: $0 [build|selftest|smoke]" >&2
  exit 2
  ;;
esac
