#!/usr/bin/env python3
"""The PyTorch baseline of `nv bench`: the same LeNet, loop and data as NeuralVision's benchmark.

Run by bench/NeuralVision.Bench with Debian's python3-torch (`/usr/bin/python3`), with OpenBLAS (OpenMP)
first in LD_LIBRARY_PATH for a fair BLAS, and 2 threads like TorchSharp. Prints one JSON object.

    python3 lenet.py --data DIR [--epochs 1] [--warmup 1] [--threads 2]
"""
import argparse, gzip, json, os, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def proc_mib(path, field):
    """A figure in kB from one of this process's /proc files (`field:` at a line's start), in MiB; None where there is none."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mib():
    """This process's peak resident memory (VmHWM), as the bench reads NeuralVision's and TorchSharp's. Not
    getrusage's ru_maxrss: Linux carries that over from the parent across exec, so a child of the bench
    would report the bench's own peak."""
    peak = proc_mib("/proc/self/status", "VmHWM")
    return float("nan") if peak is None else peak


def file_huge_pages_mib():
    """Of its resident memory, the libraries' pages mapped 2 MiB at a time (FilePmdMapped), as the bench reads its own."""
    return proc_mib("/proc/self/smaps_rollup", "FilePmdMapped")


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def train_epoch(model, optimizer, x, y, batch):
    model.train()
    order = torch.randperm(len(x))
    times = []
    for start in range(0, len(x), batch):
        t0 = time.perf_counter()
        index = order[start:start + batch]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x[index]), y[index])
        loss.backward()
        optimizer.step()
        loss.item()
        times.append(time.perf_counter() - t0)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.from_numpy(read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz")).copy()).float().div(255).unsqueeze(1)
    y = torch.from_numpy(read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    test = torch.from_numpy(read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz")).copy()).float().div(255).unsqueeze(1)

    model = lenet()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(args.warmup):
        train_epoch(model, optimizer, x, y, 64)
    epochs = []
    steps = []
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        steps += train_epoch(model, optimizer, x, y, 64)
        epochs.append(time.perf_counter() - t0)

    # Tiny MLP: 1 -> 50 -> 50 -> 1, full batch 1,000, Adam.
    mx = torch.linspace(-10, 5, 1000).unsqueeze(1)
    my = mx.sin()
    mlp = nn.Sequential(nn.Linear(1, 50), nn.Sigmoid(), nn.Linear(50, 50), nn.Sigmoid(), nn.Linear(50, 1))
    mopt = torch.optim.Adam(mlp.parameters(), 1e-3)
    def mlp_steps(n):
        t0 = time.perf_counter()
        for _ in range(n):
            mopt.zero_grad()
            loss = F.mse_loss(mlp(mx), my)
            loss.backward()
            mopt.step()
            loss.item()
        return (time.perf_counter() - t0) / n
    mlp_steps(200)
    mlp_step = mlp_steps(2000)

    # Inference, evaluation mode, batch 1,000: the median of 5 passes over the test set after one unmeasured pass
    # (a first pass also pays for oneDNN's kernel setup and first-touch page faults, which made a single timed pass
    # swing between sessions).
    model.eval()
    with torch.no_grad():
        def inference_pass():
            t0 = time.perf_counter()
            for start in range(0, len(test), 1000):
                model(test[start:start + 1000])
            return len(test) / (time.perf_counter() - t0)
        cold = inference_pass()
        inference = sorted(inference_pass() for _ in range(5))[2]

    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "epoch_seconds": epochs, "images_per_s": len(x) / sorted(epochs)[len(epochs) // 2],
        "step_ms": sorted(s * 1000 for s in steps),
        "mlp_step_ms": mlp_step * 1000, "inference_images_per_s": inference, "cold_inference_images_per_s": cold,
        "peak_rss_mib": peak_rss_mib(), "file_huge_pages_mib": file_huge_pages_mib(),
    }))


if __name__ == "__main__":
    main()
