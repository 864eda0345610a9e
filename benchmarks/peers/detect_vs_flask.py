#!/usr/bin/python3
"""strata-detect vs the reference design's Flask + OpenCV fog detector, same model, frames, load.

Starts `strata-detect` and benchmarks/peers/vision_detect_flask.py on free loopback ports, drives
each in turn with the same vtest.avi JPEG frames at the same concurrency (keep-alive http.client
loop, one connection per client thread), alternating the two for --rounds rounds, and prints the
median round's throughput, p50/p99 latency and the ratios.

Model: yolo_fastest_body (dnn) when ../shared/assets/models exists, else HOG for both. For a like-
for-like comparison strata-detect runs with faces off and annotation off (the peer does neither);
it still runs its per-camera IoU tracker.

  /usr/bin/python3 benchmarks/peers/detect_vs_flask.py [--bin build/bin/strata-detect]
      [--frames 200] [--concurrency 4] [--model yolo_fastest_body|hog] [--json]
Run with /usr/bin/python3 (Debian python3-flask, python3-opencv, python3-yaml).
"""
import argparse
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time

import cv2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
PEER = os.path.join(ROOT, "benchmarks/peers/vision_detect_flask.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port, proc, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            sys.exit(f"server exited early with code {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"server on port {port} not healthy after {timeout}s")


def find_bin(arg):
    for p in [arg] if arg else [os.path.join(ROOT, d, "bin/strata-detect")
                                  for d in ("build", "build-det", "build-lead", "build-vis")]:
        if p and os.access(p, os.X_OK):
            return p
    sys.exit("strata-detect not found: build it (ninja strata-detect) or pass --bin")


def read_frames(n):
    cap = cv2.VideoCapture(VTEST, cv2.CAP_FFMPEG)
    out = []
    while len(out) < n:
        ok, f = cap.read()
        if not ok:
            break
        out.append(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    if not out:
        sys.exit(f"no frames from {VTEST} (install Debian opencv-doc)")
    return out


def drive(port, path, bodies, concurrency):
    """Sends every body once, `concurrency` client threads in parallel; returns the stats dict."""
    lat, errors, lock, next_i = [], [], threading.Lock(), [0]

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "image/jpeg", "X-Strata-Camera": "bench"}
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= len(bodies):
                return
            t = time.perf_counter()
            conn.request("POST", path, body=bodies[i], headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            dt = time.perf_counter() - t
            with lock:
                lat.append(dt)
                if resp.status != 200:
                    errors.append(resp.status)
                elif i == 0:
                    json.loads(data)

    for b in bodies[:5]:  # warm-up (model init, first-call allocations)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("POST", path, body=b, headers={"Content-Type": "image/jpeg", "X-Strata-Camera": "warm"})
        c.getresponse().read()
    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    lat.sort()
    return {"requests": len(lat), "errors": len(errors), "concurrency": concurrency,
            "throughput_rps": round(len(lat) / wall, 2),
            "p50_ms": round(1000 * lat[len(lat) // 2], 1),
            "p99_ms": round(1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))], 1)}


def run(cmd, port, path, bodies, concurrency, env=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    try:
        wait_healthy(port, proc)
        return drive(port, path, bodies, concurrency)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def strata_config(model, tmp):
    lines = ["detect:", "  faces: off", "  annotate: false", f"  instances: {os.cpu_count()}"]
    if model != "hog":  # one OpenCV thread per pipeline (HOG keeps its own parallel_for)
        lines += ["  backend: dnn", f"  manifest: {ROOT}/configs/models/{model}.yaml", "  threads: 1"]
    path = os.path.join(tmp, "detect.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def median_run(runs):
    """The run with the median throughput (its own p50/p99), plus every round's throughput."""
    r = dict(sorted(runs, key=lambda x: x["throughput_rps"])[len(runs) // 2])
    r["rounds_rps"] = [x["throughput_rps"] for x in runs]
    return r


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=4)
    default_model = "yolo_fastest_body" if os.path.isdir(os.path.join(ROOT, "../shared/assets/models")) else "hog"
    ap.add_argument("--model", default=default_model)
    ap.add_argument("--rounds", type=int, default=3, help="alternating runs; the median is reported")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    binary = find_bin(args.bin)
    bodies = read_frames(args.frames)
    strata_runs, flask_runs = [], []
    for _ in range(args.rounds):  # alternate, so load from other processes hits both sides alike
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            strata_runs.append(run([binary, "--config", strata_config(args.model, tmp), "--port",
                                    str(port), "--log-level", "warn"],
                                   port, "/api/v1/frames", bodies, args.concurrency))
        port = free_port()
        flask_runs.append(run(["/usr/bin/python3", PEER, "serve", "--model", args.model, "--port",
                               str(port)], port, "/api/v1/detect", bodies, args.concurrency))
    strata, flask = median_run(strata_runs), median_run(flask_runs)
    report = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpu": cpu_name(),
              "cores": os.cpu_count(), "load_avg_1m": os.getloadavg()[0], "model": args.model,
              "frames": len(bodies), "rounds": args.rounds,
              "strata_detect": strata, "flask_peer": flask,
              "throughput_ratio": round(strata["throughput_rps"] / flask["throughput_rps"], 2),
              "p99_ratio": round(flask["p99_ms"] / strata["p99_ms"], 2)}
    if args.json:
        print(json.dumps(report))
        return
    print(f"{report['date']}  {report['cpu']} ({report['cores']} cores)  model={args.model}  "
          f"frames={len(bodies)} concurrency={args.concurrency} rounds={args.rounds} (median) "
          f"load={report['load_avg_1m']:.2f}")
    for name, r in (("strata-detect", strata), ("flask peer", flask)):
        print(f"  {name:14s} {r['throughput_rps']:8.2f} req/s   p50 {r['p50_ms']:7.1f} ms   "
              f"p99 {r['p99_ms']:7.1f} ms   errors {r['errors']}   rounds {r['rounds_rps']}")
    print(f"  throughput ratio strata/flask = {report['throughput_ratio']}x (floor 3x); "
          f"p99 flask/strata = {report['p99_ratio']}x")


if __name__ == "__main__":
    main()
