#!/usr/bin/env python3
"""Lists public declarations in Swift sources that have no `///` doc comment.

A development tool, not a test: it reads the sources line by line (no Swift parser), which is
enough for this code base's one-declaration-per-line style.

    Tools/check_doc_comments.py                       # the whole Sources/Recur tree
    Tools/check_doc_comments.py Sources/Recur/Core Sources/Recur/Layers/Linear.swift
    Tools/check_doc_comments.py --summary             # counts per folder only
    Tools/check_doc_comments.py --cases               # also enum cases of public enums

A declaration counts as public when its modifiers include `public` or `open`. `public extension`
lines are not reported (the members are). Requirements of a public protocol carry no modifier and
are not checked. Enum cases are implicitly public; they are listed only
with --cases. A doc comment is a run of `///` lines (or a `/** ... */` block) directly above the
declaration or above its attributes (`@inlinable`, `@discardableResult`, ...).

Exit status: 0 when nothing is missing, 1 otherwise, so the script can guard a folder later.
"""

import argparse
import collections
import os
import re
import signal
import sys

DECLARATION_KEYWORDS = (
    "func", "var", "let", "init", "subscript", "class", "struct", "enum", "protocol", "actor",
    "typealias", "associatedtype", "case", "macro", "operator", "precedencegroup",
)
MODIFIERS = (
    "public", "open", "private", "fileprivate", "internal", "package", "final", "static", "class",
    "override", "mutating", "nonmutating", "convenience", "required", "indirect", "lazy", "weak",
    "unowned", "dynamic", "nonisolated", "prefix", "postfix", "infix", "optional", "consuming",
    "borrowing", "isolated",
)
ACCESS_SETTER = re.compile(r"^(public|private|fileprivate|internal|package|open)\((set)\)\s+")
ATTRIBUTE = re.compile(r"^@[A-Za-z_][A-Za-z0-9_.]*(\((?:[^()]|\([^()]*\))*\))?\s*")
NAME = re.compile(r"[A-Za-z_`][A-Za-z0-9_`]*|[^\sA-Za-z0-9_]+")


def parse_declaration(line):
    """Returns (keyword, is_public, is_extension, rest) for a declaration line, else None."""
    text = line.strip()
    while True:
        match = ATTRIBUTE.match(text)
        if not match:
            break
        text = text[match.end():]
    is_public = False
    while True:
        setter = ACCESS_SETTER.match(text)
        if setter:
            text = text[setter.end():]
            continue
        word = re.match(r"^([a-z]+)\b\s*", text)
        if not word:
            return None
        token = word.group(1)
        if token in ("public", "open"):
            is_public = True
            text = text[word.end():]
            continue
        if token == "extension":
            return ("extension", is_public, True, text[word.end():])
        if token in DECLARATION_KEYWORDS:
            # `class` is both a modifier and a keyword: `class func` is a modifier.
            after = text[word.end():]
            if token == "class" and re.match(r"^(func|var|let|subscript|override|final)\b", after):
                text = after
                continue
            return (token, is_public, False, after)
        if token in MODIFIERS:
            text = text[word.end():]
            continue
        return None


def is_attribute_only(line):
    text = line.strip()
    if not text.startswith("@"):
        return False
    while True:
        match = ATTRIBUTE.match(text)
        if not match:
            break
        text = text[match.end():]
    return text == ""


def has_doc_comment(lines, index):
    """True when the declaration at lines[index] is preceded by a doc comment."""
    j = index - 1
    while j >= 0 and is_attribute_only(lines[j]):
        j -= 1
    if j < 0:
        return False
    previous = lines[j].strip()
    if previous.startswith("///"):
        return True
    if previous.endswith("*/"):
        while j >= 0 and "/*" not in lines[j]:
            j -= 1
        return j >= 0 and "/**" in lines[j]
    return False


def enclosing_is_public_enum(stack):
    return bool(stack) and stack[-1] == ("enum", True)


def scan_file(path, include_cases):
    """Yields (line_number, declaration_text) for undocumented public declarations."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    # A rough brace stack of (kind, is_public) to know when a `case` belongs to a public enum.
    stack = []
    in_block_comment = False
    in_multiline_string = False
    for index, raw in enumerate(lines):
        line = raw
        stripped = line.strip()
        if in_block_comment:
            if "*/" in stripped:
                in_block_comment = False
            continue
        if in_multiline_string:
            if stripped.count('"""') % 2 == 1:
                in_multiline_string = False
            continue
        if stripped.startswith("//"):
            continue
        if stripped.startswith("/*") and "*/" not in stripped:
            in_block_comment = True
            continue
        if stripped.count('"""') % 2 == 1:
            in_multiline_string = True
        declaration = parse_declaration(stripped)
        opened_kind = None
        if declaration:
            keyword, is_public, is_extension, rest = declaration
            if is_extension:
                opened_kind = ("extension", is_public)
            else:
                if keyword in ("class", "struct", "enum", "protocol", "actor"):
                    opened_kind = (keyword, is_public)
                report = False
                if keyword == "case":
                    report = include_cases and enclosing_is_public_enum(stack)
                elif is_public:
                    report = True
                if report and not has_doc_comment(lines, index):
                    yield index + 1, stripped
        # Track braces outside string literals (good enough for this code base).
        code = re.sub(r'"(?:\\.|[^"\\])*"', '""', line.split("//")[0])
        opens = code.count("{")
        closes = code.count("}")
        for _ in range(opens):
            stack.append(opened_kind if opened_kind else ("block", False))
            opened_kind = None
        for _ in range(closes):
            if stack:
                stack.pop()


def swift_files(paths):
    for path in paths:
        if os.path.isfile(path):
            if path.endswith(".swift"):
                yield path
            continue
        for root, directories, files in os.walk(path):
            directories.sort()
            for name in sorted(files):
                if name.endswith(".swift"):
                    yield os.path.join(root, name)


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under `| head`
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", default=["Sources/Recur"],
                        help="files or folders (default: Sources/Recur)")
    parser.add_argument("--summary", action="store_true", help="print counts per folder only")
    parser.add_argument("--cases", action="store_true", help="also report enum cases of public enums")
    arguments = parser.parse_args()

    per_folder = collections.Counter()
    total = 0
    for path in swift_files(arguments.paths):
        for line_number, text in scan_file(path, arguments.cases):
            total += 1
            per_folder[os.path.dirname(path)] += 1
            if not arguments.summary:
                print(f"{path}:{line_number}: {text}")
    if per_folder:
        if not arguments.summary:
            print()
        for folder in sorted(per_folder):
            print(f"{per_folder[folder]:5d}  {folder}")
    print(f"{total:5d}  undocumented public declarations")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
