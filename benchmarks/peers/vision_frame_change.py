#!/usr/bin/python3
"""Peer for benchmarks/vision: Strata's frame-change algorithm written in python3-opencv.

Same steps and defaults as src/vision/frame_change.cc (background method): grey, INTER_LINEAR
downscale to 180 px height, 5x5 Gaussian blur, absdiff against a running-average background
(alpha 0.05), threshold 25, dilate x2, external contours, changed area / frame area >= 1 %.
Single-threaded (cv2.setNumThreads(1)) so the result is fps per core.
Run with /usr/bin/python3 (the pyenv python3 has no cv2). Prints one JSON line.
"""
import argparse
import json
import time

import cv2
import numpy as np


class FrameChange:
    def __init__(self, method="background", height=180, blur=5, thr=25, dilate=2,
                 min_fraction=0.01, alpha=0.05):
        self.method, self.height, self.blur, self.thr = method, height, blur, thr
        self.dilate, self.min_fraction, self.alpha = dilate, min_fraction, alpha
        self.ref = None

    def process(self, frame):
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        if self.height and gray.shape[0] > self.height:
            w = max(1, gray.shape[1] * self.height // gray.shape[0])
            gray = cv2.resize(gray, (w, self.height), interpolation=cv2.INTER_LINEAR)
        else:
            gray = gray.copy()
        if self.blur > 1:
            gray = cv2.GaussianBlur(gray, (self.blur, self.blur), 0)
        if self.ref is None:
            self.ref = gray.astype(np.float32) if self.method == "background" else gray
            return True
        if self.method == "background":
            diff = cv2.absdiff(gray, cv2.convertScaleAbs(self.ref))
        else:
            diff = cv2.absdiff(gray, self.ref)
        _, binary = cv2.threshold(diff, self.thr - 1, 255, cv2.THRESH_BINARY)
        if self.dilate:
            binary = cv2.dilate(binary, None, iterations=self.dilate)
        area = 0.0
        if cv2.countNonZero(binary):
            contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            for c in contours:
                area += max(cv2.contourArea(c), float(len(c)))
        fraction = min(1.0, area / binary.size)
        if self.method == "background":
            cv2.accumulateWeighted(gray, self.ref, self.alpha)
        else:
            self.ref = gray
        return fraction >= self.min_fraction


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default="/usr/share/doc/opencv-doc/examples/data/vtest.avi")
    ap.add_argument("--frames", type=int, default=100, help="distinct frames to preload")
    ap.add_argument("--seconds", type=float, default=3.0, help="minimum measuring time")
    ap.add_argument("--method", default="background", choices=["background", "consecutive"])
    args = ap.parse_args()
    cv2.setNumThreads(1)
    cap = cv2.VideoCapture(args.video, cv2.CAP_FFMPEG)
    frames = []
    while len(frames) < args.frames:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    if not frames:  # no video: the same synthetic 768x576 frames as the C++ benchmark
        rng = np.random.default_rng(1)
        frames = [rng.integers(0, 255, (576, 768, 3), dtype=np.uint8) for _ in range(8)]
    gate = FrameChange(method=args.method)
    # CPU time of this (single-threaded) process, like Google Benchmark's CPU column: fps per core
    # even when other work shares the machine.
    n, start = 0, time.process_time()
    while True:
        for f in frames:
            gate.process(f)
        n += len(frames)
        elapsed = time.process_time() - start
        if elapsed >= args.seconds:
            break
    h, w = frames[0].shape[:2]
    print(json.dumps({"peer": "python3-opencv", "cv2": cv2.__version__, "method": args.method,
                      "size": f"{w}x{h}", "frames": n, "seconds": round(elapsed, 3),
                      "fps": round(n / elapsed, 1)}))


if __name__ == "__main__":
    main()
