"""Why sampled tunes are invalid: samples tunes from a checkpoint with `recur generate --format abc`
and sorts every problem the checker reports into kinds (a missing header field, an unreadable
line, a tune cut at the length limit, a bar too long or too short), with, for the bars, how far
off they are in unit notes and where they stand (the first or last line of the melody, beside a
repeat, an ending or a tuplet). Prints a summary and writes the sampled tunes with their verdicts.

    python3 Tools/Benchmarks/music_failures.py --recur .build/release/recur --checkpoint runs/tunes/best.safetensors \
        --count 100 --seed 2 --temperature 0.5 --out samples.abc
"""
import argparse
import collections
import json
import re
import subprocess
import tempfile
from fractions import Fraction


def generate(recur, checkpoint, count, seed, temperature, top_k, json_report):
    with tempfile.TemporaryDirectory() as out:
        command = [recur, "generate", "--checkpoint", checkpoint, "--format", "abc", "--count", str(count), "--seed", str(seed),
                   "--temperature", str(temperature), "--top-k", str(top_k), "--out", out] + (["--json"] if json_report else [])
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def tunes_of(text):
    """(tune text, verdict line) pairs of `generate --format abc`'s text output."""
    tunes, current = [], []
    for line in text.splitlines():
        if line.startswith("% valid tunes:"):
            continue
        if line == "% valid" or line.startswith("% invalid: "):
            tunes.append(("\n".join(current).strip("\n") + "\n", line))
            current = []
        else:
            current.append(line)
    return tunes


def header(tune):
    fields = {}
    for line in tune.splitlines():
        m = re.match(r"^([A-Za-z]):(.*)$", line)
        if m and m.group(1) not in fields:
            fields[m.group(1)] = m.group(2).strip()
        if line.startswith("K:"):
            break
    return fields


def unit_of(fields):
    if "L" in fields:
        try:
            return Fraction(fields["L"].split("%")[0].strip())
        except (ValueError, ZeroDivisionError):
            return None
    m = fields.get("M", "")
    metre = {"C": Fraction(1), "C|": Fraction(1)}.get(m)
    if metre is None:
        try:
            metre = Fraction(m)
        except (ValueError, ZeroDivisionError):
            return None
    return Fraction(1, 16) if metre < Fraction(3, 4) else Fraction(1, 8)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--recur", required=True)
    a.add_argument("--checkpoint", required=True)
    a.add_argument("--count", type=int, default=100)
    a.add_argument("--seed", type=int, default=2)
    a.add_argument("--temperature", type=float, default=0.5)
    a.add_argument("--top-k", type=int, default=0)
    a.add_argument("--out", help="write the sampled tunes with their verdicts here")
    args = a.parse_args()

    text = generate(args.recur, args.checkpoint, args.count, args.seed, args.temperature, args.top_k, False)
    report = json.loads(generate(args.recur, args.checkpoint, args.count, args.seed, args.temperature, args.top_k, True))
    if args.out:
        open(args.out, "w").write(text)
    tunes = tunes_of(text)
    assert len(tunes) == len(report["details"]), "the text and JSON runs must draw the same tunes"

    kinds = collections.Counter()        # one count per invalid tune: its kinds of problem
    problems = collections.Counter()     # every problem
    places = collections.Counter()       # where the wrong bars stand
    offsets = collections.Counter()      # how far off, in unit notes
    bars_per_tune = collections.Counter()
    lengths = []
    for (tune, verdict), detail in zip(tunes, report["details"]):
        lengths.append(detail["characters"])
        if detail["valid"]:
            continue
        lines = tune.splitlines()
        fields = header(tune)
        unit = unit_of(fields)
        k_line = next((i for i, l in enumerate(lines) if l.startswith("K:")), None)
        body = [i + 1 for i in range(len(lines)) if k_line is not None and i > k_line and lines[i].strip()]
        tune_kinds = set()
        bar_count = 0
        for p in detail["problems"]:
            m = re.match(r"line (\d+): a bar (inside a section )?lasts ([0-9/]+), (more|less) than the metre's ([0-9/]+)", p)
            if not m:
                kind = re.sub(r"\d+", "N", re.sub(r'"[^"]*"', '"…"', p))
                kind = re.sub(r"^tune N line N(, column N)?: ", "", kind)
                problems[kind] += 1
                tune_kinds.add(kind.split(";")[0])
                continue
            bar_count += 1
            line, duration, metre = int(m.group(1)), Fraction(m.group(3)), Fraction(m.group(5))
            kind = "bar too long" if m.group(4) == "more" else "bar too short inside a section"
            problems[kind] += 1
            tune_kinds.add(kind)
            if unit:
                offsets[f"{kind}: {'+' if duration > metre else ''}{(duration - metre) / unit} unit(s)"] += 1
            source = lines[line - 1] if 0 < line <= len(lines) else ""
            where = "first line of the melody" if body and line == body[0] else "last line" if body and line == body[-1] else "middle line"
            marks = [name for pattern, name in [(r"\|[12]|\[[12]|:\|[12]", "ending"), (r"::|\|:|:\|", "repeat"),
                                                (r"\(\d", "tuplet"), (r"[<>]", "broken rhythm")] if re.search(pattern, source)]
            places[f"{kind}: {where}{' (line has ' + ', '.join(marks) + ')' if marks else ''}"] += 1
        if bar_count:
            bars_per_tune[min(bar_count, 4)] += 1
        kinds[" + ".join(sorted(tune_kinds))] += 1

    valid = report["valid"]
    print(f"{report['tunes']} tunes, {valid} valid ({valid / report['tunes']:.2f}), {report['ended']} ended by a blank line; "
          f"median {sorted(lengths)[len(lengths) // 2]} characters, longest {max(lengths)}")
    for title, counter in [("invalid tunes by their kinds of problem", kinds), ("problems", problems),
                           ("wrong bars: how far off", offsets), ("wrong bars: where", places),
                           ("invalid tunes by wrong bars (4 = four or more)", bars_per_tune)]:
        print(f"\n{title}:")
        for key, n in counter.most_common():
            print(f"  {n:4d}  {key}")


if __name__ == "__main__":
    main()
