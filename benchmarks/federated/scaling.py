#!/usr/bin/env python3
"""Round time and upload bytes per edge vs N for `strata federate simulate` (issue 6's "table and
plot"): plain and secure (SecAgg, one group up to 100 edges; fogs of 10 / 100 edges beyond), k=8,
d=4, 3 FedLloyd rounds. Writes a Markdown table on stdout and an SVG (log-log) to --svg.
Usage: benchmarks/federated/scaling.py --bin build/bin/strata --svg docs/images/federate-scaling.svg
Standard library only."""
import argparse
import json
import math
import statistics
import subprocess
import sys

CASES = [  # label, N, extra args
    ("plain", 10, []), ("plain", 100, []), ("plain", 1000, []),
    ("secure", 10, ["--secure"]), ("secure", 100, ["--secure"]),
    ("secure, fogs of 10", 100, ["--secure", "--hierarchy", "10"]),
    ("secure, fogs of 100", 1000, ["--secure", "--hierarchy", "100", "--round-timeout-ms", "30000"]),
]


def run(binary, n, extra):
    cmd = [binary, "federate", "simulate", "--nodes", str(n), "--rounds", "3", "--seed", "1",
           "--json"] + extra
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True).stdout
    r = json.loads(out)
    fed = [x for x in r["rounds"] if x["kind"] != "kfed" and x["outcome"] == "completed"]
    return {"round_ms": statistics.median(x["round_ms"] for x in fed),
            "bytes": statistics.median(x["bytes_per_node"] for x in fed),
            "ssq_ratio": r["final_ssq_ratio"]}


def svg(points):
    w, h, left, top, pw, ph = 760, 380, 70, 40, 560, 280
    series = {}
    for label, n, res in points:
        series.setdefault(label, []).append((n, res["round_ms"]))
    xs = [n for _, n, _ in points]
    ys = [res["round_ms"] for _, _, res in points]
    lx0, lx1 = math.log10(min(xs)), math.log10(max(xs))
    ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    X = lambda n: left + pw * (math.log10(n) - lx0) / max(1e-9, lx1 - lx0)
    Y = lambda v: top + ph - ph * (math.log10(v) - ly0) / max(1e-9, ly1 - ly0)
    colours = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f"]
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
         f'font-family="Helvetica, Arial, sans-serif" style="background:#fff">',
         f'<text x="{left + pw / 2}" y="24" font-size="15" text-anchor="middle" font-weight="bold">'
         'strata federate simulate: FedLloyd round time vs nodes (median of 3 rounds)</text>']
    for e in range(ly0, ly1 + 1):
        y = Y(10 ** e)
        s.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        s.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{10 ** e:g} ms</text>')
    for n in sorted(set(xs)):
        s.append(f'<text x="{X(n):.1f}" y="{top + ph + 18}" font-size="11" text-anchor="middle">{n}</text>')
    s.append(f'<text x="{left + pw / 2}" y="{top + ph + 38}" font-size="12" text-anchor="middle">nodes (edges)</text>')
    for i, (label, pts) in enumerate(series.items()):
        c = colours[i % len(colours)]
        pts.sort()
        s.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' %
                 (c, " ".join(f"{X(n):.1f},{Y(v):.1f}" for n, v in pts)))
        for n, v in pts:
            s.append(f'<circle cx="{X(n):.1f}" cy="{Y(v):.1f}" r="4" fill="{c}"><title>{label}, N={n}: {v:.0f} ms</title></circle>')
        s.append(f'<rect x="{left + pw + 15}" y="{top + 20 * i}" width="12" height="12" fill="{c}"/>')
        s.append(f'<text x="{left + pw + 32}" y="{top + 20 * i + 10}" font-size="12">{label}</text>')
    s.append("</svg>")
    return "\n".join(s) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin/strata")
    ap.add_argument("--svg")
    a = ap.parse_args()
    points = []
    print("| setup | N | FedLloyd round ms (median) | upload B / edge / round | SSQ ÷ centralised |")
    print("|---|---|---|---|---|")
    for label, n, extra in CASES:
        res = run(a.bin, n, extra)
        points.append((label, n, res))
        print(f"| {label} | {n} | {res['round_ms']:.0f} | {res['bytes']:.0f} | {res['ssq_ratio']:.4f} |")
        sys.stdout.flush()
    if a.svg:
        with open(a.svg, "w") as f:
            f.write(svg(points))


if __name__ == "__main__":
    main()
