#!/usr/bin/env bash
# The digit-reversal study of the seq2seq section: train an encoder-decoder with and without
# attention on random digit strings of lengths 5–20 (their reversals as targets), then score exact
# match by source length up to 30 — beyond the trained lengths — with greedy decoding.
#
# Usage: Tools/Benchmarks/reversal_study.sh [recur binary] [work dir]
# Data are generated here by a seeded awk script (no Python), so the run reproduces anywhere.
set -euo pipefail
R=${1:-.build/release/recur}
W=${2:-runs/reversal}
mkdir -p "$W"

# pairs COUNT MIN MAX SEED: COUNT random digit strings of length MIN…MAX and their reversals
pairs() {
  awk -v n="$1" -v lo="$2" -v hi="$3" -v seed="$4" 'BEGIN {
    srand(seed)
    for (i = 0; i < n; i++) {
      len = lo + int(rand() * (hi - lo + 1)); s = ""; r = ""
      for (j = 0; j < len; j++) { d = int(rand() * 10); s = s d; r = d r }
      print s "\t" r
    }
  }'
}
pairs 20000 5 20 1 > "$W/train.tsv"
pairs 300 5 20 2 > "$W/validation.tsv"
buckets="5-10 11-15 16-20 21-25 26-30"
seed=10
for b in $buckets; do
  pairs 300 "${b%-*}" "${b#*-}" $seed > "$W/test_$b.tsv"; seed=$((seed + 1))
done

common=(--train "$W/train.tsv" --validation "$W/validation.tsv" --hidden-size 64 --embedding-size 16
        --dropout 0 --label-smoothing 0 --learning-rate 0.01 --steps 2500 --eval-every 500 --seed 1)
for attention in general none; do
  "$R" seq2seq train "${common[@]}" --attention "$attention" --out "$W/$attention"
  for b in $buckets; do
    printf '%s attention, lengths %s: ' "$attention" "$b"
    "$R" seq2seq eval --checkpoint "$W/$attention/best.safetensors" --data "$W/test_$b.tsv" --beam 1 | grep -i -E "exact|word error" | tr '\n' ' '
    echo
  done
done
