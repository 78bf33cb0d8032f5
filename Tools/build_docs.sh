#!/usr/bin/env bash
# Builds the DocC documentation of the Recur library without the swift-docc-plugin:
# symbol graphs from the compiler, then the toolchain's `docc convert` on Sources/Recur/Recur.docc.
#
#   Tools/build_docs.sh [output.doccarchive]      # default .build-docs/Recur.doccarchive
#
# Warnings (unresolved symbol links, undocumented parameters) are printed with file and line.
# Preview the archive with `docc preview Sources/Recur/Recur.docc --additional-symbol-graph-dir
# .build-docs/symbol-graphs`, or serve it with any static web server after
# `--transform-for-static-hosting`.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-docs
output=${1:-$scratch/Recur.doccarchive}
graphs=$scratch/symbol-graphs
docc=$(command -v docc || echo "$(dirname "$(readlink -f "$(command -v swift)")")/docc")

rm -rf "$graphs" && mkdir -p "$graphs"
# The compiler writes symbol graphs only when it compiles Recur: remove its objects so that an
# unchanged source tree is compiled again (the C kernels and the dependencies are kept).
rm -f "$scratch"/build/*/Recur.build/*.o
# A separate scratch path, so the extra compiler flags do not invalidate the regular .build.
swift build --target Recur --scratch-path "$scratch/build" \
  -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$graphs" >/dev/null
"$docc" convert Sources/Recur/Recur.docc \
  --additional-symbol-graph-dir "$graphs" \
  --fallback-display-name Recur --fallback-bundle-identifier org.recur.Recur \
  --output-path "$output"
echo "documentation: $output"
