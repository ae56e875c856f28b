#!/usr/bin/python3
"""PyTorch twin of Tandem's ref-cnn training step (issue #3 throughput bar).

Same layer graph as nn_graph.c's ref-cnn (conv3x3 32 + BN + ReLU, maxpool 2, conv3x3 64 + BN +
ReLU, maxpool 2, conv3x3 64 + BN + ReLU, FC 10), NCHW float32, SGD with Nesterov momentum 0.9
and weight decay 5e-4, softmax cross-entropy, batch B, T intra-op threads. Prints one line:
"torch images_per_s X" (forward + backward + optimizer step, after warm-up steps).
Usage: bench-train-torch.py [--batch 128] [--threads 2] [--images 5120]
"""
import argparse
import time

import torch
import torch.nn as nn


def ref_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=5120)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = ref_cnn()
    params = sum(p.numel() for p in net.parameters())
    assert params == 87274, params  # Tandem's ref-cnn parameter count
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    lossf = nn.CrossEntropyLoss()
    x = torch.randn(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))
    net.train()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = lossf(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    steps = max(1, a.images // a.batch)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    dt = time.perf_counter() - t0
    print(f"torch images_per_s {steps * a.batch / dt:.1f}")


if __name__ == "__main__":
    main()
