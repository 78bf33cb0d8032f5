#!/usr/bin/env python3
"""TF-IDF + logistic regression on the split a `recur classify train` run used.

    python3 Tools/Baselines/tfidf_logistic.py DATA.csv RUN_DIR/splits.csv [--text-column text] [--label-column label]

Reads the labelled CSV and the run's splits.csv (`line,part`: the first line of each record and its
part), fits scikit-learn's TfidfVectorizer (word uni- and bigrams, sublinear tf) + LogisticRegression
on the train part with C chosen on the validation part, and prints the test accuracy: the classical
peer for the RNN on exactly the same items. Needs scikit-learn (not needed by Recur itself).
"""
import argparse
import csv
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


def records(path):
    """(first line, row dict) for each record, counting lines as Recur's CSV reader does."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        end = 1  # the header
        for row in reader:
            start = end + 1
            end = reader.line_num
            yield start, row


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data")
    p.add_argument("splits")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    a = p.parse_args()
    with open(a.splits, newline="") as f:
        part = {int(r["line"]): r["part"] for r in csv.DictReader(f)}
    parts = {"train": ([], []), "validation": ([], []), "test": ([], [])}
    for line, row in records(a.data):
        if line not in part:
            sys.exit(f"{a.data}: line {line} is not in {a.splits}; was the run made on this file?")
        texts, labels = parts[part[line]]
        texts.append(row[a.text_column])
        labels.append(row[a.label_column])
    (xtr, ytr), (xva, yva), (xte, yte) = parts["train"], parts["validation"], parts["test"]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    train = vectorizer.fit_transform(xtr)
    best = None
    for c in (0.25, 0.5, 1, 2, 4, 8, 16):
        model = LogisticRegression(C=c, max_iter=2000).fit(train, ytr)
        accuracy = model.score(vectorizer.transform(xva), yva) if xva else 0
        if best is None or accuracy > best[0]:
            best = (accuracy, c, model)
    accuracy, c, model = best
    test = model.score(vectorizer.transform(xte), yte)
    print(f"train {len(xtr)}, validation {len(xva)}, test {len(xte)}; C = {c} (validation accuracy {accuracy:.4f}); "
          f"test accuracy {test:.4f}")


if __name__ == "__main__":
    main()
