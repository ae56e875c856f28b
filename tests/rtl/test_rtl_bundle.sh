#!/bin/sh
# The generated bundle builds and passes its own testbench from a clean directory, with only
# Verilator and a C++ compiler (issue #6 quality bar). Usage: test_rtl_bundle.sh GEN_TOOL
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
