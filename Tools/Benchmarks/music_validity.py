"""Valid share of sampled tunes and validation loss against training time, as an SVG.

Samples --count tunes from each checkpoint snapshot of a `recur train --corpus oneills_1850.abc` run
(snapshots named step-N.safetensors, copied from last.safetensors as the run went), checks them with
`recur generate --format abc --json`, and draws the valid share (with the corpus's own share and 95 % of
it) and the validation loss (Recur's metrics.jsonl and, if given, the PyTorch twin's log) against
elapsed training time. Prints a table; writes --svg and a CSV beside it.

    python3 Tools/Benchmarks/music_validity.py --recur .build/release/recur --snapshots runs/abc-snaps \
        --metrics runs/abc/metrics.jsonl --corpus-share 0.8955 --temperature 0.5 0.2 --seed 2 --torch-log torch-abc.log --svg valid_share.svg
"""
import argparse
import glob
import json
import os
import re
import subprocess
import tempfile


def sample(recur, checkpoint, count, seed, temperature):
    """The JSON report of `recur generate --format abc` on `checkpoint`, cached beside it."""
    cache = f"{checkpoint}.valid-{count}-{seed}-{temperature}.json"
    if os.path.exists(cache):
        return json.load(open(cache))
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run([recur, "generate", "--checkpoint", checkpoint, "--format", "abc", "--count", str(count),
                                 "--seed", str(seed), "--temperature", str(temperature), "--out", out, "--json"],
                                capture_output=True, text=True, check=True)
    with open(cache, "w") as f:
        f.write(result.stdout)
    return json.loads(result.stdout)


def polyline(points, x0, y0, w, h, xmax, ymin, ymax, color, dash=""):
    coords = " ".join(f"{x0 + w * x / xmax:.1f},{y0 + h - h * (y - ymin) / (ymax - ymin):.1f}" for x, y in points)
    return f'<polyline fill="none" stroke="{color}" stroke-width="2" {dash} points="{coords}"/>'


def panel(title, series, x0, y0, w, h, xmax, ymin, ymax, ylabel):
    parts = [f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#888"/>',
             f'<text x="{x0 + w / 2}" y="{y0 - 8}" text-anchor="middle" font-size="14">{title}</text>',
             f'<text x="{x0 - 45}" y="{y0 + h / 2}" font-size="12" transform="rotate(-90 {x0 - 45} {y0 + h / 2})" text-anchor="middle">{ylabel}</text>',
             f'<text x="{x0 + w / 2}" y="{y0 + h + 32}" text-anchor="middle" font-size="12">training time (s, wall)</text>']
    for i in range(5):
        y = ymin + (ymax - ymin) * i / 4
        py = y0 + h - h * i / 4
        parts.append(f'<text x="{x0 - 6}" y="{py + 4}" text-anchor="end" font-size="11">{y:.2f}</text>')
        x = xmax * i / 4
        parts.append(f'<text x="{x0 + w * i / 4}" y="{y0 + h + 16}" text-anchor="middle" font-size="11">{x:.0f}</text>')
    for k, (label, points, color, dash) in enumerate(series):
        if points:
            parts.append(polyline(points, x0, y0, w, h, xmax, ymin, ymax, color, dash))
            for x, y in points if not dash else []:
                parts.append(f'<circle cx="{x0 + w * x / xmax:.1f}" cy="{y0 + h - h * (y - ymin) / (ymax - ymin):.1f}" r="3" fill="{color}"/>')
        parts.append(f'<text x="{x0 + w - 10}" y="{y0 + h / 2 + 16 * k}" text-anchor="end" font-size="12" fill="{color}">{label}</text>')
    return "\n".join(parts)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--recur", required=True)
    a.add_argument("--snapshots", required=True)
    a.add_argument("--metrics", required=True)
    a.add_argument("--corpus-share", type=float, required=True)
    a.add_argument("--torch-log")
    a.add_argument("--count", type=int, default=100)
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--temperature", type=float, nargs="+", default=[0.8], help="one or more sampling temperatures, one curve each")
    a.add_argument("--svg", required=True)
    a.add_argument("--sample-only", action="store_true", help="sample the snapshots (cached), draw nothing")
    args = a.parse_args()

    metrics = [json.loads(line) for line in open(args.metrics) if line.strip()]
    by_step = {m["step"]: m for m in metrics}
    rows = []
    for path in sorted(glob.glob(os.path.join(args.snapshots, "step-*.safetensors")), key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0])):
        step = int(re.findall(r"\d+", os.path.basename(path))[0])
        if step not in by_step:
            continue
        reports = [sample(args.recur, path, args.count, args.seed, t) for t in args.temperature]
        m = by_step[step]
        rows.append((step, m["elapsed_s"], m.get("val_loss"), *[(r["valid_share"], r["ended"]) for r in reports]))
        print(f"step {step:5d}  {m['elapsed_s']:7.1f} s  val {m.get('val_loss', float('nan')):.4f}  "
              + "  ".join(f"T {t}: valid {r['valid']}/{r['tunes']} ended {r['ended']}" for t, r in zip(args.temperature, reports)), flush=True)
    if args.sample_only:
        return
    torch_points = []
    if args.torch_log:
        for line in open(args.torch_log):
            found = re.search(r"val ([0-9.]+) .*elapsed ([0-9.]+)", line)
            if found:
                torch_points.append((float(found.group(2)), float(found.group(1))))
    with open(os.path.splitext(args.svg)[0] + ".csv", "w") as f:
        f.write("step,elapsed_s,val_loss," + ",".join(f"valid_share_T{t},ended_T{t}" for t in args.temperature) + "\n")
        for r in rows:
            f.write(",".join(str(v) for v in [*r[:3], *[x for pair in r[3:] for x in pair]]) + "\n")
    xmax = max([r[1] for r in rows] + [t for t, _ in torch_points] + [1])
    losses = [r[2] for r in rows if r[2] is not None] + [v for _, v in torch_points]
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="760" height="640" font-family="sans-serif">',
           '<rect width="100%" height="100%" fill="white"/>',
           panel("Valid share of sampled tunes", [
               *[(f"Recur, {args.count} tunes per checkpoint (T = {t})", [(r[1], r[3 + k][0]) for r in rows], color, "")
                 for k, (t, color) in enumerate(zip(args.temperature, ["#1f77b4", "#9467bd", "#8c564b", "#17becf"]))],
               (f"corpus under the same checker ({args.corpus_share:.3f})", [(0, args.corpus_share), (xmax, args.corpus_share)], "#2ca02c", 'stroke-dasharray="6 4"'),
               (f"target: 0.95 × corpus ({0.95 * args.corpus_share:.3f})", [(0, 0.95 * args.corpus_share), (xmax, 0.95 * args.corpus_share)], "#d62728", 'stroke-dasharray="2 3"'),
           ], 80, 40, 640, 220, xmax, 0, 1, "valid share"),
           panel("Validation loss (nats/char)", [
               ("Recur", [(r[1], r[2]) for r in rows if r[2] is not None], "#1f77b4", ""),
               ("PyTorch (same model and settings)", torch_points, "#ff7f0e", ""),
           ], 80, 360, 640, 220, xmax, min(losses) - 0.05, max(losses) + 0.05, "nats/char"),
           "</svg>"]
    with open(args.svg, "w") as f:
        f.write("\n".join(svg))


if __name__ == "__main__":
    main()
