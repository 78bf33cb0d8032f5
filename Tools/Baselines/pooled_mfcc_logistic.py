#!/usr/bin/env python3
"""Mean + standard deviation pooled MFCCs -> logistic regression on the spoken-digit split.

    python3 Tools/Baselines/pooled_mfcc_logistic.py FRAMES.csv INDEX.csv

Reads `fsdd_mfcc13.csv` (utt, frame, c0..c12) and `fsdd_index.csv` (utt, ..., split), pools each
utterance's frames into the mean and standard deviation of every coefficient (26 numbers),
standardises them with the training part's statistics, fits scikit-learn's LogisticRegression on
the `train` rows and prints the accuracy on the `test` rows: the sanity baseline the data set's
README quotes (0.957), next to `recur classify series --layout joined` on the same split. Needs
NumPy and scikit-learn (not needed by Recur itself).
"""
import argparse
import csv
from collections import defaultdict

import numpy as np
from sklearn.linear_model import LogisticRegression


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("frames")
    p.add_argument("index")
    a = p.parse_args()
    frames = defaultdict(list)
    with open(a.frames, newline="") as f:
        for row in csv.DictReader(f):
            frames[row["utt"]].append([float(row[f"c{k}"]) for k in range(13)])
    parts = {"train": ([], []), "test": ([], [])}
    with open(a.index, newline="") as f:
        for row in csv.DictReader(f):
            x = np.array(frames[row["utt"]])
            features = np.concatenate([x.mean(axis=0), x.std(axis=0)])
            parts[row["split"]][0].append(features)
            parts[row["split"]][1].append(row["digit"])
    x_train, y_train = np.array(parts["train"][0]), parts["train"][1]
    x_test, y_test = np.array(parts["test"][0]), parts["test"][1]
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-12
    model = LogisticRegression(max_iter=5000).fit((x_train - mean) / std, y_train)
    accuracy = float(np.mean(model.predict((x_test - mean) / std) == np.array(y_test)))
    print(f"pooled-MFCC logistic regression: {len(y_train)} training and {len(y_test)} test utterances, "
          f"test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
