#!/usr/bin/env bash
# Installs the Debian packages Tandem needs, only those missing; safe to run again.
# Usage: scripts/install-deps.sh [core|all|bench]   (default: all)
#   core  - build + unit/train tests (compiler, CMake, libraries, dataset)
#   all   - core + RTL, SystemC, synthesis, MPI and browser tools (what `make test` needs)
#   bench - all + PyTorch (CPU) for the side-by-side benchmarks
set -euo pipefail
set_name=${1:-all}
core=(build-essential cmake pkg-config libfyaml-dev libjansson-dev libgsl-dev libopenblas-dev
      libsqlite3-dev sqlite3 zlib1g-dev dataset-fashion-mnist clang-format)
tools=(verilator libsystemc-dev yosys opensta qflow-tech-osu018 libopenmpi-dev openmpi-bin
       libjs-vega chromium)
bench=(python3-torch python3-numpy hyperfine)
case "$set_name" in
  core) want=("${core[@]}") ;;
  all) want=("${core[@]}" "${tools[@]}") ;;
  bench) want=("${core[@]}" "${tools[@]}" "${bench[@]}") ;;
  *) echo "install-deps.sh: unknown set '$set_name' (core|all|bench)" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#want[@]} packages present" >&2
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are missing or stale (older than a day).
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  $SUDO apt-get update -q
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
