#!/bin/bash -eu
# Builds every libFuzzer entry of hitless (fuzz/libfuzzer/*/) into $OUT, with
# its seed corpus and dictionary. OSS-Fuzz and ClusterFuzzLite run this as
# $SRC/build.sh inside their builder image; fuzz/libfuzzer/build.sh runs the
# very same script on a plain machine, where every variable has a default.
#
# For each fuzz target FuzzX of ./fuzz whose entry is fuzz/libfuzzer/x/:
#   $OUT/FuzzX                    the fuzzer (Go C archive + libFuzzer main)
#   $OUT/FuzzX_seed_corpus.zip    the target's folder of corpus/, raw inputs
#   $OUT/FuzzX.dict               corpus/isakmp.dict
#   $OUT/FuzzX.options            -dict and -max_len defaults for OSS-Fuzz
#
# Route: go build -tags libfuzzer -gcflags=PKGS=-d=libfuzzer -buildmode=c-archive,
# then link with $CXX $CXXFLAGS $LIB_FUZZING_ENGINE (clang -fsanitize=fuzzer).
# The Go compiler instruments PKGS for libFuzzer's coverage counters and
# comparison hooks; sanitizer flags only affect the C side. PKGS is the code
# under test (ref/...) by default: instrumenting "all" (runtime, reflect, fmt
# too) gave 17 times the counters, noise in the coverage feedback and under a
# third of the execs/s, and instrumenting the fuzz harness's own comparisons
# too (github.com/hitless-ike/hitless/...) cost about 13% of FuzzParse's
# execs/s for no coverage of the code under test. Set GO_INSTRUMENT to compare.

# The repository: $SRC/hitless in the OSS-Fuzz image, else the checkout this
# script lives in.
if [ -z "${HITLESS_DIR:-}" ]; then
  if [ -n "${SRC:-}" ] && [ -f "$SRC/hitless/go.mod" ]; then
    HITLESS_DIR="$SRC/hitless"
  else
    HITLESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  fi
fi
OUT="${OUT:-${TMPDIR:-/tmp}/hitless-libfuzzer}"
CXX="${CXX:-clang++}"
CXXFLAGS="${CXXFLAGS:-}"
LIB_FUZZING_ENGINE="${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}"
GO="${GO:-go}"
GO_INSTRUMENT="${GO_INSTRUMENT:-github.com/hitless-ike/hitless/ref/...}"
# Inputs above this are never useful to an ISAKMP parser (UDP datagrams).
MAX_LEN="${MAX_LEN:-4096}"

if [ "${SANITIZER:-}" = coverage ]; then
  # OSS-Fuzz coverage builds need Go's own coverage route
  # (compile_native_go_fuzzer); not supported yet, see README.md.
  echo "build.sh: SANITIZER=coverage is not supported" >&2
  exit 1
fi

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
cd "$HITLESS_DIR"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The corpus tool exports the seed corpora, as a user would.
"$GO" build -o "$work/hitless" ./cmd/hitless

for main in fuzz/libfuzzer/*/main.go; do
  pkg="$(dirname "$main")"
  [ "$(basename "$pkg")" = internal ] && continue
  # The Go target is the property the entry runs: fuzz.X is FuzzX.
  fn="$(sed -n 's/.*libfuzzer\.Run(fuzz\.\([A-Za-z0-9_]*\),.*/\1/p' "$main")"
  if [ -z "$fn" ]; then
    echo "build.sh: $main does not call libfuzzer.Run(fuzz.X, ...)" >&2
    exit 1
  fi
  target="Fuzz$fn"
  echo "build.sh: $target ($pkg)"
  "$GO" build -tags libfuzzer "-gcflags=$GO_INSTRUMENT=-d=libfuzzer" -buildmode=c-archive \
    -o "$work/$target.a" "./$pkg"
  # shellcheck disable=SC2086 # flag lists are word-split on purpose
  $CXX $CXXFLAGS $LIB_FUZZING_ENGINE "$work/$target.a" -lpthread -o "$OUT/$target"
  "$work/hitless" corpus export --dir corpus --target "$target" \
    --format oss-fuzz-zip --out "$OUT/${target}_seed_corpus.zip" >/dev/null
  cp corpus/isakmp.dict "$OUT/$target.dict"
  printf '[libfuzzer]\ndict = %s.dict\nmax_len = %s\n' "$target" "$MAX_LEN" >"$OUT/$target.options"
done
