#!/usr/bin/env bash
# Builds and runs the consumer package against Recur as a *tagged* git dependency, as a user of a
# release would get it: clones the committed HEAD of the enclosing checkout into a temporary folder,
# drops the clone's tags, tags HEAD 99.0.0, and resolves the consumer against it (RECUR_URL).
# Uncommitted changes are not in the clone. Extra arguments go to `swift run` (e.g. -c release).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel)"
head="$(git -C "$root" rev-parse HEAD)"

work="$(mktemp -d "${TMPDIR:-/tmp}/recur-consumer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
git clone --quiet "$root" "$work/Recur"
git -C "$work/Recur" checkout --quiet --detach "$head"
git -C "$work/Recur" tag -l | xargs -r git -C "$work/Recur" tag -d >/dev/null
git -C "$work/Recur" -c user.name=ci -c user.email=ci@localhost tag -a 99.0.0 -m "temporary tag for Examples/Consumer" "$head"
echo "Recur $head tagged 99.0.0 at file://$work/Recur"

cd "$here"
# A new URL each run, and no stale pin: resolve afresh against this clone.
rm -f Package.resolved
RECUR_URL="file://$work/Recur" swift run "$@" RecurConsumer
