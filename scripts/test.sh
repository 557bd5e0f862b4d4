#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. g++ release build (-O3, no -g, asserts kept) of everything + all tests
#      (interop against real peers included): the configuration users build
#      for production is the one CI keeps warning-free (GCC's -O3 flow
#      warnings are the ones -O2 misses); without -g it compiles faster than
#      -O2 -g did (ua_test.cpp: 63 s against 77 s). The sanitizer phase, where
#      a failure needs a stack, keeps debug info.
#   2. clang ASan + UBSan build of everything at -O0 (tests, examples,
#      benchmarks, fuzz targets; warnings are errors: this is also the clang
#      warning check) + tests (leaks detected; interop suite skipped). One
#      clang build instead of a GCC sanitizer build plus a clang compile-only
#      build: clang compiles ASan+UBSan at -O0 in 60% of GCC's time
#      (ua_test.cpp: 43 s against 71 s), and the second build is gone.
#   3. the libFuzzer targets of that build, each run ~10 s over its seed
#      corpus (one per core at a time)
#   4. a separate meson project using sigwire as a subproject
#   5. meson install + pkg-config
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/bootstrap.sh" all || { echo "0 passed, 1 failed"; exit 1; }

jobs=$(nproc)
fuzz_seconds=${SIGWIRE_FUZZ_SECONDS:-10}
passed=0
failed=0
failures=()
started=$(date +%s)

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "FAILED: $1"; }
phase() { echo; echo "=== $* ($(( $(date +%s) - started )) s)"; }

# setup DIR [meson options...]: configure once, reconfigure on later runs.
setup() {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure --werror "$dir" "$@" >"$dir.setup.log" 2>&1
  else
    mkdir -p "$(dirname "$dir")"
    meson setup --werror "$dir" "$@" >"$dir.setup.log" 2>&1
  fi || { cat "$dir.setup.log"; return 1; }
}

# Counts meson's per-test results from its JSON log.
count_meson_results() {
  local log=$1/meson-logs/testlog.json
  [ -f "$log" ] || { fail "$1: no test log"; return; }
  local ok bad names skipped
  ok=$(grep -c '"result": "\(OK\|EXPECTEDFAIL\)"' "$log" || true)
  # A skipped test is a missing peer or corpus. Fine in a user's clone; in
  # CI (CI=true) every peer is installed, so a skip is a failure.
  skipped=$(grep '"result": "SKIP"' "$log" | sed 's/.*"name": "\([^"]*\)".*/\1/' || true)
  for n in $skipped; do
    if [ "${CI:-}" = true ]; then fail "$1: $n skipped"; else echo "  skipped: $n"; passed=$((passed + 1)); fi
  done
  bad=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$log" || true)
  passed=$((passed + ok))
  if [ "$bad" -gt 0 ]; then
    names=$(grep '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$log" | sed 's/.*"name": "\([^"]*\)".*/\1/')
    for n in $names; do fail "$1: $n"; done
  fi
}

build_and_test() {  # name dir [meson test args] -- [setup args]
  local name=$1 dir=$2; shift 2
  local test_args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do test_args+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  if ! setup "$dir" "$@"; then fail "$name: configure"; return; fi
  if ! ninja -C "$dir" -j "$jobs" >"$dir.build.log" 2>&1; then
    tail -50 "$dir.build.log"; fail "$name: build"; return
  fi
  pass  # the build itself
  rm -f "$dir/meson-logs/testlog.json"
  meson test -C "$dir" --print-errorlogs --num-processes "$jobs" "${test_args[@]}" >"$dir.test.log" 2>&1
  grep -E '^ *[0-9]+/[0-9]+ ' "$dir.test.log" || true
  grep -q 'Fail: *0' "$dir.test.log" || sed -n '/stdout:/,$p' "$dir.test.log" | head -200
  count_meson_results "$dir"
}

phase "1. g++ release build + tests"
CXX=g++ build_and_test "g++" build/gcc -- --buildtype=release -Db_ndebug=false

phase "2. clang ASan + UBSan build of everything (warnings are errors) + tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
CXX=clang++ build_and_test "clang asan+ubsan" build/clang-asan --no-suite interop --timeout-multiplier 4 -- \
  -Db_sanitize=address,undefined -Db_lundef=false -Doptimization=0 \
  -Dexamples=enabled -Dbench=enabled -Dfuzz=enabled
unset ASAN_OPTIONS UBSAN_OPTIONS

phase "3. fuzz smoke (${fuzz_seconds} s per target)"
# One target per core at a time, each over a copy of its seed corpus.
fuzz_one() {  # target: exit status in build/clang-asan/NAME.rc, output in build/clang-asan/NAME.log
  local name work
  name=$(basename "$1")
  work=build/clang-asan/corpus-run/$name
  rm -rf "$work"; mkdir -p "$work"
  [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/"
  "$1" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "$work" >"build/clang-asan/$name.log" 2>&1
  echo $? >"build/clang-asan/$name.rc"
}
targets=()
for target in build/clang-asan/fuzz/*_fuzz; do
  [ -x "$target" ] && targets+=("$target") && rm -f "build/clang-asan/$(basename "$target").rc"
done
[ ${#targets[@]} -gt 0 ] || fail "fuzz: no targets built"
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  fuzz_one "$target" &
done
wait
for target in "${targets[@]}"; do
  name=$(basename "$target")
  if [ "$(cat "build/clang-asan/$name.rc" 2>/dev/null)" = 0 ]; then
    echo "  $name: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "build/clang-asan/$name.log" | grep -o '[0-9]*$') runs, ok"
    pass
  else
    tail -40 "build/clang-asan/$name.log"; fail "fuzz $name"
  fi
done

phase "4. sigwire as a meson subproject"
sub=build/subproject-user
rm -rf "$sub"; mkdir -p "$sub/subprojects"
cp tests/subproject/meson.build tests/subproject/user.cpp "$sub/"
ln -s "$root" "$sub/subprojects/sigwire"
if meson setup "$sub/build" "$sub" >"$sub.log" 2>&1 && ninja -C "$sub/build" >>"$sub.log" 2>&1 &&
   meson test -C "$sub/build" >>"$sub.log" 2>&1; then
  pass; echo "  subproject build + run: ok"
else
  cat "$sub.log" | tail -40; fail "subproject"
fi

phase "5. meson install + pkg-config sigwire"
dest=$root/build/install-root
rm -rf "$dest"
if DESTDIR="$dest" meson install -C build/gcc --quiet >build/install.log 2>&1; then
  pc_dir=$(dirname "$(find "$dest" -name sigwire.pc | head -1)")
  prefix=$(sed -n 's/^prefix=//p' "$pc_dir/sigwire.pc")
  if flags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --define-variable=prefix="$dest$prefix" --cflags --libs sigwire) &&
     g++ tests/subproject/user.cpp $flags -o build/install-user >>build/install.log 2>&1 && build/install-user; then
    pass
  else
    cat build/install.log | tail -20; fail "installed headers + sigwire.pc"
  fi
else
  cat build/install.log | tail -20; fail "meson install"
fi

phase "done"
echo "wall time: $(( $(date +%s) - started )) s"
for f in "${failures[@]}"; do echo "  failed: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
