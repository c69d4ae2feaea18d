# hitless — build, test, fuzz and benchmark targets.
#
#   make test           everything a contributor must keep green
#   make fuzz           each fuzz target for FUZZTIME (one `go test -fuzz` per target)
#   make fuzz-smoke     every fuzz target for SMOKETIME (10000 execs: a count, not a
#                       duration, avoids a Go fuzz coordinator deadline race)
#   make libfuzzer      libFuzzer binaries of every fuzz target into LIBFUZZER_OUT
#   make libfuzzer-smoke  build them, prove crashes are caught, run each briefly
#   make bench          all benchmarks with -benchmem (BENCHCOUNT runs, for benchstat)
#   make bench-compare  `hitless dump --json` vs `tshark -T json` on a generated capture
#   make lint           go vet + staticcheck (pinned)
#   make ci             lint + test + fuzz-smoke

GO          ?= go
FUZZTIME    ?= 60s
SMOKETIME   ?= 10000x
BENCHTIME   ?= 1s
BENCHCOUNT  ?= 1
BENCH       ?= .
STATICCHECK_VERSION ?= v0.8.2
GOBIN       ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck

# Packages searched for fuzz targets; each target runs in its own `go test -fuzz`
# because Go fuzzes one target per invocation.
FUZZ_PKGS   ?= ./...
LIBFUZZER_OUT ?= $(or $(TMPDIR),/tmp)/hitless-libfuzzer
LIBFUZZER_TIME ?= 10

.PHONY: all test fuzz fuzz-smoke libfuzzer libfuzzer-smoke bench bench-compare lint staticcheck ci tools

all: test

test:
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags hitlessbroken ./props/... ./ref/gateway/...

# fuzz runs every Fuzz* target in FUZZ_PKGS for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list $(FUZZ_PKGS)); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(SMOKETIME)

# libFuzzer builds need clang and libFuzzer (Debian: clang libclang-rt-14-dev).
libfuzzer:
	OUT=$(LIBFUZZER_OUT) GO=$(GO) fuzz/libfuzzer/build.sh build

libfuzzer-smoke:
	OUT=$(LIBFUZZER_OUT) GO=$(GO) SMOKE_TIME=$(LIBFUZZER_TIME) fuzz/libfuzzer/build.sh smoke

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./...

bench-compare:
	bash cmd/hitless/bench-compare.sh

$(STATICCHECK):
	GOBIN=$(GOBIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

tools: $(STATICCHECK)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

lint: staticcheck
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

ci: lint test fuzz-smoke
