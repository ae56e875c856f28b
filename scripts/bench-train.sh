#!/bin/sh
# Training throughput of ref-cnn, Tandem (CPU backend) vs PyTorch (Debian python3-torch, CPU),
# side by side: batch 128, 2 threads, forward + backward + SGD step, RUNS interleaved runs,
# medians and their ratio (issue #3 bar: Tandem >= PyTorch). Also prints the machine load.
# Usage: scripts/bench-train.sh BUILD_DIR [RUNS] [IMAGES]
#   BUILD_DIR holds the tandem binary (cmake --build BUILD_DIR --target tandem).
# Tandem's images/s is tandem train's images_per_s: the training loop alone (batch assembly
# from the uint8 data set, normalization, forward, backward, optimizer), no evaluation.
# PyTorch's is the same step on a resident random batch (scripts/bench-train-torch.py).
set -eu
build=${1:?usage: scripts/bench-train.sh BUILD_DIR [RUNS] [IMAGES]}
runs=${2:-3}
images=${3:-5120}
here=$(cd "$(dirname "$0")" && pwd)
tandem="$build/tandem"
[ -x "$tandem" ] || { echo "bench-train.sh: $tandem not found (build the tandem target)" >&2; exit 2; }
py=/usr/bin/python3
have_torch=1
$py -c "import torch" 2>/dev/null || have_torch=0
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$here/.." rev-parse --short HEAD)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
t_list=""
p_list=""
i=1
while [ "$i" -le "$runs" ]; do
    t=$("$tandem" train --net ref-cnn --epochs 1 --train-images "$images" --batch 128 \
        --threads 2 --val-images 1000 --test-images 100 --json -q |
        $py -c "import json,sys; print('%.1f' % json.load(sys.stdin)['images_per_s'])")
    t_list="$t_list $t"
    if [ "$have_torch" = 1 ]; then
        p=$($py "$here/bench-train-torch.py" --batch 128 --threads 2 --images "$images" |
            awk '{print $3}')
    else
        p="n/a"
    fi
    p_list="$p_list $p"
    echo "run $i: tandem $t images/s, torch $p images/s, load $(cut -d' ' -f1 /proc/loadavg)"
    i=$((i + 1))
done
med() { echo "$@" | tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tm=$(med $t_list)
echo "tandem median: $tm images/s (runs:$t_list)"
if [ "$have_torch" = 1 ]; then
    pm=$(med $p_list)
    echo "torch median:  $pm images/s (runs:$p_list)"
    echo "ratio tandem/torch: $(echo "$tm $pm" | awk '{printf "%.2f", $1 / $2}')"
else
    echo "torch: not run (no python3-torch; scripts/install-deps.sh bench installs it)"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
