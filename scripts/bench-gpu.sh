#!/usr/bin/env bash
# Training throughput (images/s) on one GPU (issue #4) of ref-cnn and three networks of the
# default search space (random genomes, seeds 1-3): the CUDA backend vs the CPU backend vs
# PyTorch on the same GPU (the same layer graph, rebuilt node by node from
# `bench_gpu_train --dump-graph`), FP32 and TF32 for ref-cnn, and several networks training
# at once (one host thread and CUDA stream each) vs one at a time. Prints a Markdown table to
# paste into docs/benchmarks.md ("CUDA backend") with the GPU model, date and commit.
#
# usage: scripts/bench-gpu.sh [build-dir] [images-per-run]
#   build-dir       a CUDA build (default build-cuda; configured and built when missing)
#   images-per-run  training images per timed run (default 25600 = 200 batches of 128)
#
# Needs an NVIDIA GPU: exits 2 with a message where there is none (or the backend cannot
# run on it). PyTorch rows are printed only where python3 can import torch with CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-cuda}
IMAGES=${2:-25600}

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "bench-gpu: no NVIDIA GPU found (nvidia-smi missing or 'nvidia-smi -L' failed);" \
        "this benchmark needs one" >&2
    exit 2
fi
BENCH="$BUILD/tests/gpu/bench_gpu_train"
if [ ! -x "$BENCH" ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTANDEM_CUDA=ON >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" --target bench_gpu_train >/dev/null
fi
if [ ! -x "$BENCH" ]; then
    echo "bench-gpu: $BENCH was not built (is nvcc installed? see docs/cuda.md)" >&2
    exit 2
fi
set +e
"$BENCH" --device cuda --images 256 >/dev/null
rc=$?
set -e
if [ $rc -ne 0 ]; then
    echo "bench-gpu: the CUDA backend cannot run here (message above)" >&2
    exit 2
fi

GPU=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
CORES=$(nproc)
field() { # field NAME JSON-LINE
    sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" <<<"$2"
}
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
run3() { # run3 ARGS... -> "r1 r2 r3" images/s
    local out=()
    for _ in 1 2 3; do
        out+=("$(field images_per_s "$("$BENCH" "$@")")")
    done
    echo "${out[*]}"
}

echo "GPU: $GPU; host cores: $CORES; date: $(date -u +%Y-%m-%d);" \
    "commit: $(git rev-parse --short HEAD)"
echo
echo "| network | run | images/s (3 runs) | median |"
echo "|---|---|---|---|"
row() { # row NET LABEL ARGS...
    local net=$1 label=$2
    shift 2
    local r
    r=$(run3 --net "$net" "$@")
    # shellcheck disable=SC2086
    echo "| $net | $label | ${r// / / } | $(median3 $r) |"
}

HAVE_TORCH=0
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    HAVE_TORCH=1
    TORCH_VERSION=$(python3 -c 'import torch; print(torch.__version__)')
fi

# PyTorch on the same GPU: the same layer graph (bench_gpu_train --dump-graph), recipe (SGD,
# Nesterov 0.9, weight decay 5e-4, batch 128, flips), data resident on the GPU, and one host
# synchronization per step (loss.item()), as the Tandem engine has (softmax_xent returns the
# loss). Prints images/s.
torch_run() { # torch_run NET TF32(0/1)
    GRAPH=$("$BENCH" --net "$1" --dump-graph) TF32=$2 IMAGES=$IMAGES python3 - <<'PY'
import gzip, json, os, time
import numpy as np
import torch
import torch.nn as nn

tf32 = os.environ["TF32"] == "1"
torch.backends.cuda.matmul.allow_tf32 = tf32
torch.backends.cudnn.allow_tf32 = tf32
torch.backends.cudnn.benchmark = True
d = "/usr/share/datasets/fashion-mnist"
with gzip.open(f"{d}/train-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
with gzip.open(f"{d}/train-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8)
dev = torch.device("cuda")
x = torch.tensor(x, dtype=torch.float32, device=dev) / 255.0
x = (x - x.mean()) / x.std()
y = torch.tensor(y, dtype=torch.int64, device=dev)

class Graph(nn.Module):
    """The Tandem layer graph, node by node."""
    def __init__(self, g):
        super().__init__()
        self.nodes = g["nodes"]
        mods = []
        for n in self.nodes:
            op, c, oc = n["op"], n["c"], n["oc"]
            if op == "conv":
                m = nn.Conv2d(c, oc, n["k"], n["stride"], n["pad"], groups=n["groups"],
                              bias=n["bias"])
            elif op == "bn":
                m = nn.BatchNorm2d(c)
            elif op == "relu":
                m = nn.ReLU()
            elif op == "relu6":
                m = nn.ReLU6()
            elif op == "maxpool":
                m = nn.MaxPool2d(n["k"], n["stride"], n["pad"])
            elif op == "avgpool":
                m = nn.AvgPool2d(n["k"], n["stride"], n["pad"], count_include_pad=False)
            elif op == "gap":
                m = nn.AdaptiveAvgPool2d(1)
            elif op == "fc":
                m = nn.Linear(c * n["h"] * n["w"], oc, bias=n["bias"])
            else:
                m = nn.Identity()
            mods.append(m)
        self.mods = nn.ModuleList(mods)

    def forward(self, inp):
        outs = [inp]
        for n, m in list(zip(self.nodes, self.mods))[1:]:
            a = outs[n["in"][0]]
            if n["op"] == "add":
                outs.append(a + outs[n["in"][1]])
            elif n["op"] == "fc":
                outs.append(m(a.flatten(1)))
            else:
                outs.append(m(a))
        return outs[-1].flatten(1)

net = Graph(json.loads(os.environ["GRAPH"])).to(dev)
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                      weight_decay=5e-4)
loss_fn = nn.CrossEntropyLoss()
B, n = 128, int(os.environ["IMAGES"])

def steps(count):
    perm = torch.randperm(x.shape[0], device=dev)
    for s in range(count):
        idx = perm[(s * B) % (x.shape[0] - B):][:B]
        xb = x[idx]
        flip = torch.rand(B, device=dev) < 0.5
        xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xb), y[idx])
        loss.backward()
        opt.step()
        loss.item()

steps(20)
torch.cuda.synchronize()
t0 = time.perf_counter()
steps(n // B)
torch.cuda.synchronize()
print(f"{(n // B) * B / (time.perf_counter() - t0):.1f}")
PY
}
torch_row() { # torch_row NET TF32
    if [ $HAVE_TORCH = 0 ]; then
        echo "| $1 | PyTorch | not run: python3 cannot import torch with CUDA here | - |"
        return
    fi
    local r=() label
    for _ in 1 2 3; do
        r+=("$(torch_run "$1" "$2")")
    done
    label="PyTorch $TORCH_VERSION, $([ "$2" = 1 ] && echo TF32 || echo FP32)"
    echo "| $1 | $label | ${r[0]} / ${r[1]} / ${r[2]} | $(median3 "${r[@]}") |"
}

# ref-cnn and three networks of the default search space (random genomes, seeds 1-3)
for net in ref-cnn space:1 space:2 space:3; do
    row "$net" "CPU backend, $CORES threads" --device cpu --threads "$CORES" \
        --images $((IMAGES / 4))
    row "$net" "CUDA backend, FP32" --device cuda --images "$IMAGES"
    torch_row "$net" 0
done
TANDEM_CUDA_TF32=1 row ref-cnn "CUDA backend, TF32 (TANDEM_CUDA_TF32=1)" --device cuda \
    --images "$IMAGES"
torch_row ref-cnn 1
# several networks at once on one GPU (one host thread and stream each), aggregate images/s
for k in 2 4 8; do
    row ref-cnn "CUDA backend, $k networks at once (aggregate)" --device cuda \
        --images "$IMAGES" --concurrent "$k"
done
