"""Draws the validation loss of several `recur train` runs against wall-clock time in one SVG.

Each run is a metrics.jsonl (one JSON object per evaluation, with elapsed_s and val_loss) and a
label. Standard library only.

Usage:
  python3 Tools/Benchmarks/plot_validation_curves.py OUT.svg "LSTM 2x512=runs/lstm/metrics.jsonl" \
      "residual minGRU=runs/mingru/metrics.jsonl" [--title TEXT]
"""
import json
import sys
from xml.sax.saxutils import escape

COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]


def read(path):
    points = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            record = json.loads(line)
            if record.get("val_loss") is not None:
                points.append((record["elapsed_s"] / 60, record["val_loss"]))
    if not points:
        sys.exit(f"error: {path} has no validation losses")
    return points


def ticks(lo, hi, count):
    raw = (hi - lo) / count
    step = min((s * 10 ** e for e in range(-3, 4) for s in (1, 2, 2.5, 5) if s * 10 ** e >= raw))
    first = int(lo / step + 0.999999) * step
    values, v = [], first
    while v <= hi + 1e-9:
        values.append(round(v, 10))
        v += step
    return values


def main(argv):
    title = "Validation loss against wall-clock time"
    if "--title" in argv:
        i = argv.index("--title")
        title = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if len(argv) < 2:
        sys.exit(__doc__)
    out, runs = argv[0], []
    for spec in argv[1:]:
        label, _, path = spec.rpartition("=")
        if not label:
            sys.exit(f"error: \"{spec}\" is not LABEL=metrics.jsonl")
        runs.append((label, read(path)))
    width, height, left, right, top, bottom = 720, 420, 64, 20, 40, 56
    xs = [x for _, p in runs for x, _ in p]
    ys = [y for _, p in runs for _, y in p]
    x0, x1 = 0.0, max(xs) * 1.02
    y0, y1 = min(ys) - 0.02, min(max(ys), min(ys) + 1.5) + 0.02

    def px(x):
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def py(y):
        return top + (y1 - min(y, y1)) / (y1 - y0) * (height - top - bottom)

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>']
    for v in ticks(x0, x1, 8):
        svg.append(f'<line x1="{px(v):.1f}" y1="{top}" x2="{px(v):.1f}" y2="{height - bottom}" stroke="#e5e5e5"/>')
        svg.append(f'<text x="{px(v):.1f}" y="{height - bottom + 16}" text-anchor="middle">{v:g}</text>')
    for v in ticks(y0, y1, 8):
        svg.append(f'<line x1="{left}" y1="{py(v):.1f}" x2="{width - right}" y2="{py(v):.1f}" stroke="#e5e5e5"/>')
        svg.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    svg.append(f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" fill="none" stroke="#333"/>')
    svg.append(f'<text x="{(left + width - right) / 2}" y="{height - 14}" text-anchor="middle">wall-clock time (minutes)</text>')
    svg.append(f'<text transform="translate(16 {(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">'
               'validation loss (nats per character)</text>')
    for i, (label, points) in enumerate(runs):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        svg.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        best = min(y for _, y in points)
        ly = top + 18 + 18 * i
        svg.append(f'<line x1="{width - right - 300}" y1="{ly}" x2="{width - right - 276}" y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        svg.append(f'<text x="{width - right - 270}" y="{ly + 4}">{escape(label)} (best {best:.4f})</text>')
    svg.append("</svg>")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
