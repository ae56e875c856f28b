#!/bin/sh
# The generated bundle builds and passes its own testbench from a clean directory, with only
# Verilator and a C++ compiler (issue #6 quality bar), on a WS core and on an OS core whose
# im2col steps carry X row ranges; malformed ranges in host.txt are refused with their message.
# Usage: test_rtl_bundle.sh GEN_TOOL
set -eu
GEN=$1
command -v verilator >/dev/null || { echo "verilator not installed"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# ref-cnn on a 4x4 int8 weight-stationary core, 2 test images
"$GEN" "$WORK/gen" ref-cnn 4 4 8 32 WS 1024 2
# copy to a fresh directory: nothing may point back at the generator or the source tree
cp -r "$WORK/gen" "$WORK/clean"
rm -rf "$WORK/gen"
cd "$WORK/clean"
make -s JOBS=2 > build.log 2>&1 || { cat build.log; exit 1; }
make -s test

# ref-cnn on a 4x4 output-stationary core with 64-line buffers: the fused max-pools run in
# bands and column strips, so host.txt lists the X row ranges the OS tiles start at
# (docs/formats.md, "X layout") and the bundle's im2col lays X out per range
cd "$WORK"
"$GEN" "$WORK/os" ref-cnn 4 4 8 32 OS 64 2
cd "$WORK/os"
awk '$1 == "im2col" && $12 > 1 { found = 1 } END { exit !found }' data/host.txt ||
  { echo "no im2col step with X row ranges in the OS bundle"; exit 1; }
make -s JOBS=2 > build.log 2>&1 || { cat build.log; exit 1; }
make -s test
# malformed row ranges in host.txt are refused with a message naming the step
bad_host() { # NAME AWK_PROGRAM EXPECTED_MESSAGE
  rm -rf "bad-$1" && cp -r data "bad-$1"
  awk "$2" data/host.txt > "bad-$1/host.txt"
  rc=0
  ./obj_dir/Vtandem_core "bad-$1" > "bad-$1.out" 2>&1 || rc=$?
  [ "$rc" != 0 ] && grep -qF "$3" "bad-$1.out" ||
    { echo "host.txt $1: rc $rc, expected '$3'"; cat "bad-$1.out"; exit 1; }
}
bad_host outside 'NR == 1 { $13 = 9999 } { print }' \
  "host.txt: step 1: row range [9999, 24) is not within the GEMM's 784 rows"
bad_host negative 'NR == 1 { $12 = -1; NF = 12 } { print }' "host.txt: step 1: -1 row ranges"
bad_host short 'NR == 1 { NF = 14 } NR == 1 { print; exit }' \
  "host.txt: step 1: fewer row ranges than announced"
echo "OS bundle with X row ranges: testbench passed, malformed ranges refused"
