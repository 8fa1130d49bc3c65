#!/usr/bin/env python3
"""Turns JMH's JSON output of CodecBench into the Markdown ratio table of docs/benchmarks/codecs.md."""
import json
import sys

rows = {}
for r in json.load(open(sys.argv[1])):
    name = r["benchmark"].rsplit(".", 1)[1]  # parleyEncode, rawDecode, ...
    fmt = r["params"]["format"]
    side, op = ("parley", name[6:]) if name.startswith("parley") else ("raw", name[3:])
    score = r["primaryMetric"]["score"]
    err = r["primaryMetric"]["scoreError"]
    alloc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score", float("nan"))
    rows.setdefault((fmt, op.lower()), {})[side] = (score, err, alloc)

print("| format | op | Parley ns/op | raw ns/op | throughput ratio (raw ÷ Parley time) | Δ ns/op | Parley B/op | raw B/op | Δ B/op | goal met |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
for (fmt, op), sides in sorted(rows.items()):
    p, r = sides["parley"], sides["raw"]
    ratio = r[0] / p[0]
    delta = p[0] - r[0]
    dalloc = p[2] - r[2]
    ok = (ratio >= 0.95 or delta <= 50) and dalloc <= 64
    print(f"| {fmt} | {op} | {p[0]:,.0f} ± {p[1]:,.0f} | {r[0]:,.0f} ± {r[1]:,.0f} | {ratio:.2f} | {delta:+,.0f} | {p[2]:,.0f} | {r[2]:,.0f} | {dalloc:+,.0f} | {'yes' if ok else '**no**'} |")
