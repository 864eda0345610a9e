#!/usr/bin/python3
"""Peer for the fog `detect` service: the reference design's Flask + OpenCV detector.

Reads the SAME model manifest as Strata (configs/models/<name>.yaml) and follows the same recipe
(preprocess, decode, score filter, per-class NMS via cv2.dnn.NMSBoxes), so throughput and latency
can be compared with Strata's detect service on the same model and frames.

  # server (the peer):
  /usr/bin/python3 benchmarks/peers/vision_detect_flask.py serve --model yolo_fastest_body --port 8091
  # load client (drive either service with the same client; prints one JSON line):
  /usr/bin/python3 benchmarks/peers/vision_detect_flask.py load --url http://127.0.0.1:8091/api/v1/detect \\
      --frames 200 --concurrency 2

Routes: POST /api/v1/detect (Content-Type: image/jpeg) -> {"detections": [{"label", "score",
"box": [x1, y1, x2, y2] normalised}], "width", "height"}; GET /healthz. Errors: 400/415 problem+json.
Run with /usr/bin/python3 (Debian python3-flask, python3-opencv, python3-yaml).
"""
import argparse
import json
import os
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"


def model_dirs():
    dirs = []
    if os.environ.get("STRATA_MODELS"):
        dirs.append(os.environ["STRATA_MODELS"])
    dirs += [os.path.expanduser("~/.cache/strata/models"), os.path.join(ROOT, "../shared/assets/models")]
    return dirs


def resolve(rel):
    for d in model_dirs():
        p = os.path.join(d, rel)
        if os.path.exists(p):
            return p
    sys.exit(f"model file {rel} not found in {model_dirs()}")


class Detector:
    """One cv2.dnn net (or HOG) configured from a Strata model manifest."""

    def __init__(self, name, classes=("person",)):
        self.name = name
        self.lock = threading.Lock()  # cv2.dnn.Net is not thread-safe
        if name == "hog":
            self.hog = cv2.HOGDescriptor()
            self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
            self.labels, self.keep = ["person"], {0}
            self.score_thr, self.nms_thr = 0.0, 0.45
            return
        with open(os.path.join(ROOT, "configs/models", name + ".yaml")) as f:
            m = yaml.safe_load(f)
        self.m = m
        if m["framework"] == "darknet":
            self.net = cv2.dnn.readNetFromDarknet(resolve(m["config"]), resolve(m["model"]))
        else:
            self.net = cv2.dnn.readNetFromONNX(resolve(m["model"]))
        self.outs = self.net.getUnconnectedOutLayersNames()
        if "labels_file" in m:
            with open(resolve(m["labels_file"])) as f:
                self.labels = [line.strip() for line in f if line.strip()]
        else:
            self.labels = m["labels"]
        self.keep = {self.labels.index(c) for c in classes} if classes else None
        self.score_thr, self.nms_thr = m.get("score_threshold", 0.3), m.get("nms_threshold", 0.45)

    def detect(self, frame):
        h, w = frame.shape[:2]
        cands = []  # (x, y, w, h, cls, score) in frame pixels
        if self.name == "hog":
            rects, weights = self.hog.detectMultiScale(frame, hitThreshold=0, winStride=(8, 8),
                                                       padding=(8, 8), scale=1.05, groupThreshold=0)
            cands = [(*r, 0, float(s)) for r, s in zip(rects, np.ravel(weights))]
        else:
            inp = self.m["input"]
            size = (inp["width"], inp["height"])
            swap = inp.get("channel_order", "bgr") == "rgb"
            mean = tuple(inp.get("mean", [0, 0, 0]))
            if inp.get("resize") == "letterbox":
                r = min(size[0] / w, size[1] / h)
                canvas = np.full((size[1], size[0], 3), inp.get("pad_value", 114), np.uint8)
                canvas[:int(h * r), :int(w * r)] = cv2.resize(frame, (int(w * r), int(h * r)))
                blob = cv2.dnn.blobFromImage(canvas, inp.get("scale", 1.0), size, mean, swap, False)
            else:
                r = 1.0
                blob = cv2.dnn.blobFromImage(frame, inp.get("scale", 1.0), size, mean, swap, False)
            with self.lock:
                self.net.setInput(blob)
                outs = self.net.forward(self.outs)
            if self.m["output"]["decoder"] == "yolox":
                out = outs[0].reshape(-1, outs[0].shape[-1])
                grids = []
                for s in self.m["output"]["strides"]:
                    gy, gx = np.mgrid[0:size[1] // s, 0:size[0] // s]
                    grids.append(np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, s)], 1))
                g = np.concatenate(grids).astype(np.float32)
                cls = out[:, 5:].argmax(1)
                score = out[:, 4] * out[np.arange(len(out)), 5 + cls]
                sel = score > self.score_thr
                o, g, cls, score = out[sel], g[sel], cls[sel], score[sel]
                cx, cy = (o[:, 0] + g[:, 0]) * g[:, 2], (o[:, 1] + g[:, 1]) * g[:, 2]
                bw, bh = np.exp(o[:, 2]) * g[:, 2], np.exp(o[:, 3]) * g[:, 2]
                for i in range(len(o)):
                    cands.append(((cx[i] - bw[i] / 2) / r, (cy[i] - bh[i] / 2) / r, bw[i] / r,
                                  bh[i] / r, int(cls[i]), float(score[i])))
            else:
                for o in outs:
                    cls = o[:, 5:].argmax(1)
                    score = o[np.arange(len(o)), 5 + cls]
                    for i in np.nonzero(score > self.score_thr)[0]:
                        bw, bh = o[i, 2] * w, o[i, 3] * h
                        cands.append((o[i, 0] * w - bw / 2, o[i, 1] * h - bh / 2, bw, bh,
                                      int(cls[i]), float(score[i])))
        dets = []
        for c in sorted({c[4] for c in cands}):
            if self.keep is not None and c not in self.keep:
                continue
            group = [x for x in cands if x[4] == c]
            boxes = [[float(v) for v in x[:4]] for x in group]
            idx = cv2.dnn.NMSBoxes(boxes, [x[5] for x in group], self.score_thr, self.nms_thr)
            for i in np.ravel(idx) if len(idx) else []:
                x, y, bw, bh, _, s = group[i]
                x1, y1 = max(0.0, x) / w, max(0.0, y) / h
                x2, y2 = min(float(w), x + bw) / w, min(float(h), y + bh) / h
                dets.append({"label": self.labels[c] if c < len(self.labels) else str(c),
                             "score": round(s, 4), "box": [round(v, 5) for v in (x1, y1, x2, y2)]})
        return dets


def serve(args):
    from flask import Flask, Response, request
    cv2.setNumThreads(args.threads)
    det = Detector(args.model)
    app = Flask(__name__)

    def problem(status, title, detail):
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        return Response(json.dumps(body), status=status, content_type="application/problem+json")

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.post("/api/v1/detect")
    def detect():
        if request.content_type != "image/jpeg":
            return problem(415, "Unsupported Media Type", "expected image/jpeg")
        frame = cv2.imdecode(np.frombuffer(request.get_data(), np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            return problem(400, "Bad Request", "body is not a decodable JPEG")
        dets = det.detect(frame)
        return Response(json.dumps({"width": frame.shape[1], "height": frame.shape[0],
                                    "detections": dets}), content_type="application/json")

    app.run(host="127.0.0.1", port=args.port, threaded=True)


def load(args):
    cap = cv2.VideoCapture(args.video, cv2.CAP_FFMPEG)
    bodies = []
    while len(bodies) < args.frames:
        ok, f = cap.read()
        if not ok:
            break
        bodies.append(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    if not bodies:
        sys.exit(f"no frames from {args.video}")

    def one(body):
        req = urllib.request.Request(args.url, data=body, headers={"Content-Type": "image/jpeg"})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=30) as resp:
            n = len(json.loads(resp.read())["detections"])
        return time.perf_counter() - t, n

    one(bodies[0])  # warm-up
    start = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        results = list(pool.map(one, bodies))
    wall = time.perf_counter() - start
    lat = sorted(r[0] for r in results)
    print(json.dumps({"url": args.url, "requests": len(lat), "concurrency": args.concurrency,
                      "throughput_rps": round(len(lat) / wall, 2),
                      "p50_ms": round(1000 * lat[len(lat) // 2], 1),
                      "p99_ms": round(1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))], 1),
                      "detections_per_frame": round(sum(r[1] for r in results) / len(lat), 2)}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--model", default="yolo_fastest_body", help="manifest name or 'hog'")
    s.add_argument("--port", type=int, default=8091)
    s.add_argument("--threads", type=int, default=0, help="cv2.setNumThreads (0 = OpenCV default)")
    ld = sub.add_parser("load")
    ld.add_argument("--url", required=True)
    ld.add_argument("--video", default=VTEST)
    ld.add_argument("--frames", type=int, default=200)
    ld.add_argument("--concurrency", type=int, default=2)
    args = ap.parse_args()
    serve(args) if args.cmd == "serve" else load(args)


if __name__ == "__main__":
    main()
