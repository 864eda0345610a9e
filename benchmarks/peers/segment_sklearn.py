#!/usr/bin/python3
"""Peer benchmark: scikit-learn MiniBatchKMeans on the same stream as Strata's StreamKMeans.

Usage: /usr/bin/python3 benchmarks/peers/segment_sklearn.py BUILD_DIR/benchmarks/segment/segment_peer_tool

Runs the C++ tool (which times the C++ pipeline and exports the training stream + final customer
features), then times MiniBatchKMeans.partial_fit over the same training rows (batches of 256)
plus predict() per 64-event batch and per single event, and prints both SSQs and the speed
ratios. The C++ pipeline numbers include profile updates; the sklearn ones do not (they only
cluster pre-computed features), so the ratios understate the C++ advantage.
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.cluster import MiniBatchKMeans

D = 16


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([tool, tmp], check=True, capture_output=True, text=True).stdout
        cpp = {k: float(v) for k, v in (line.split() for line in out.strip().splitlines())}
        train = np.fromfile(os.path.join(tmp, "train.f32"), dtype=np.float32).reshape(-1, D)
        final = np.fromfile(os.path.join(tmp, "final.f32"), dtype=np.float32).reshape(-1, D)
        mean, scale = np.fromfile(os.path.join(tmp, "scale.f32"), dtype=np.float32).reshape(2, D)
    k = int(cpp["k"])
    ztrain = (train - mean) / scale
    zfinal = (final - mean) / scale

    mbk = MiniBatchKMeans(n_clusters=k, batch_size=256, random_state=0, n_init=3)
    t0 = time.perf_counter()
    for i in range(0, len(ztrain) - 255, 256):
        mbk.partial_fit(ztrain[i:i + 256])
    fit_s = time.perf_counter() - t0
    # Per-event assignment in the pipeline: predict() on batches of 64 events' customers.
    probe = zfinal[np.arange(len(ztrain)) % len(zfinal)]
    t0 = time.perf_counter()
    for i in range(0, len(probe) - 63, 64):
        mbk.predict(probe[i:i + 64])
    predict_s = time.perf_counter() - t0
    # Per-event assignment (what a service answering one event at a time does): predict(1 row).
    n_single = 2000
    t0 = time.perf_counter()
    for i in range(n_single):
        mbk.predict(probe[i:i + 1])
    single_s = (time.perf_counter() - t0) / n_single
    d2 = ((zfinal[:, None, :] - mbk.cluster_centers_[None, :, :]) ** 2).sum(axis=2)
    sk_ssq = float(d2.min(axis=1).sum())

    events = cpp["events"]
    sk_points_per_s = len(ztrain) / fit_s
    # One training row and one prediction per event (the C++ pipeline's ratio).
    sk_events_per_s = events / (fit_s * events / len(ztrain) + predict_s * events / len(probe))
    print(f"stream: {int(events)} events, {int(cpp['customers'])} customers, "
          f"{len(ztrain)} training rows, k={k}, d={D}")
    print(f"{'metric':38s} {'strata C++':>14s} {'sklearn':>14s} {'ratio':>8s}")
    print(f"{'clustering update points/s':38s} {cpp['cpp_kmeans_points_per_s']:14.0f} "
          f"{sk_points_per_s:14.0f} {cpp['cpp_kmeans_points_per_s'] / sk_points_per_s:8.1f}x")
    print(f"{'pipeline events/s, batched predict(64)':38s} {cpp['cpp_pipeline_events_per_s']:14.0f} "
          f"{sk_events_per_s:14.0f} {cpp['cpp_pipeline_events_per_s'] / sk_events_per_s:8.1f}x")
    sk_single_events_per_s = 1.0 / (fit_s / len(ztrain) + single_s)
    print(f"{'pipeline events/s, per-event predict':38s} {cpp['cpp_pipeline_events_per_s']:14.0f} "
          f"{sk_single_events_per_s:14.0f} "
          f"{cpp['cpp_pipeline_events_per_s'] / sk_single_events_per_s:8.1f}x")
    print(f"{'SSQ on final customers (lower=better)':38s} {cpp['cpp_ssq']:14.1f} "
          f"{sk_ssq:14.1f} {cpp['cpp_ssq'] / sk_ssq:8.3f}")
    print(f"{'offline Lloyd SSQ (reference)':38s} {cpp['lloyd_ssq']:14.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
