#!/bin/sh
# Report load time: a synthetic run of N evaluations (default 2000; made through the
# cs_archive API by the rep_fixture helper of tests/reports), its `tandem report`, then
# headless Chromium loads index.html REPEAT times (default 5). Prints, per load, the time from
# navigation start until every Vega view has rendered (the page's data-render-ms, real time:
# no virtual time budget) and Chromium's wall time, next to Chromium's wall time for an empty
# page (browser start-up and shutdown), and the medians. Results go in docs/benchmarks.md.
#
# usage: scripts/bench-report.sh [BUILD_DIR] [EVALUATIONS] [REPEAT]
set -eu
BUILD=${1:-build}
N=${2:-2000}
REPEAT=${3:-5}
TANDEM=$BUILD/tandem
FIXTURE=$BUILD/tests/reports/rep_fixture
[ -x "$TANDEM" ] && [ -x "$FIXTURE" ] || {
    echo "build first: cmake --build $BUILD --target tandem rep_fixture" >&2; exit 2; }
command -v chromium >/dev/null || { echo "chromium is not installed" >&2; exit 2; }
T=$(mktemp -d /tmp/td_bench_report_XXXXXX)
trap 'rm -rf "$T"' EXIT

"$FIXTURE" "$T/run" "$N" --population 50
start=$(date +%s.%N)
"$TANDEM" report "$T/run" -q
end=$(date +%s.%N)
echo "tandem report ($N evaluations): $(echo "$end - $start" | bc) s;" \
     "index.html $(stat -c %s "$T/run/report/index.html") bytes"
echo '<!doctype html><html><body>empty</body></html>' > "$T/empty.html"

load() { # load URL -> prints "WALL_S HTML_TAG"
    prof=$(mktemp -d "$T/prof-XXXXXX")
    s=$(date +%s.%N)
    dom=$(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$prof" --dump-dom "$1" \
        2>/dev/null | grep -o '<html[^>]*>' | head -1)
    e=$(date +%s.%N)
    echo "$(echo "$e - $s" | bc) $dom"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: > "$T/render" ; : > "$T/wall" ; : > "$T/base"
i=0
while [ $i -lt "$REPEAT" ]; do
    b=$(load "file://$T/empty.html" | cut -d' ' -f1)
    r=$(load "file://$T/run/report/index.html")
    w=$(echo "$r" | cut -d' ' -f1)
    ms=$(echo "$r" | sed -n 's/.*data-render-ms="\([0-9]*\)".*/\1/p')
    rendered=$(echo "$r" | sed -n 's/.*data-rendered="\([0-9a-z]*\)".*/\1/p')
    errors=$(echo "$r" | sed -n 's/.*data-errors="\([0-9]*\)".*/\1/p')
    points=$(echo "$r" | sed -n 's/.*data-points="\([0-9]*\)".*/\1/p')
    echo "load $((i + 1)): render ${ms:-?} ms (views ${rendered:-none}, points ${points:-?}," \
         "errors ${errors:-?}); chromium wall $w s, empty page $b s"
    [ -n "$ms" ] || { echo "the page did not finish rendering" >&2; exit 1; }
    echo "$ms" >> "$T/render"; echo "$w" >> "$T/wall"; echo "$b" >> "$T/base"
    i=$((i + 1))
done
echo "median: render $(median < "$T/render") ms from navigation start;" \
     "chromium wall $(median < "$T/wall") s vs $(median < "$T/base") s for an empty page"
