#!/usr/bin/env bash
# make bench-loop: how long an edit of infra/ takes to be checked by the
# mocked tests of both stacks (go test ./tests/), on a copy of the working
# tree so the repository is never touched.
#
# The copy lives at a fixed path (.tools/bench-loop/) so that its build-cache
# entries survive between runs: the first run of a fresh copy compiles the
# module's own packages once (untimed warm-up); every timed round then edits
# EDIT_FILE (appends `var benchLoopEdit = "<nonce>"`, a new value each
# round, so the compiled package differs from every earlier one, like a real
# edit: infra recompiles, the test binary relinks, both stacks run under the
# mocks again) and times `go test $TESTFLAGS ./tests/`. Prints seconds and peak RSS per round
# and the median; with PREVIEW=1 also the warm offline preview of each stack.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
copy="${BENCH_LOOP_DIR:-$root/.tools/bench-loop}"
rounds="${ROUNDS:-3}"
edit_file="${EDIT_FILE:-infra/api.go}"
testflags="${TESTFLAGS:--vet=off -ldflags=-w}"
go="${GO:-go}"

[ -f "$root/$edit_file" ] || { echo "bench-loop: EDIT_FILE=$edit_file does not exist" >&2; exit 2; }
not_go() { echo "bench-loop: EDIT_FILE=$edit_file is not a non-test Go file (the edit is a Go declaration)" >&2; exit 2; }
case "$edit_file" in *_test.go) not_go ;; *.go) ;; *) not_go ;; esac
case "$rounds" in ''|*[!0-9]*|0) echo "bench-loop: ROUNDS=$rounds is not a positive whole number" >&2; exit 2 ;; esac

# Refresh the copy: tracked files plus untracked ones git does not ignore.
mkdir -p "$copy"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  tar --null -T - -cf -) | (cd "$copy" && tar -xf -)
# The offline preview finds the pinned CLI through .tools (never copied).
ln -sfn "$root/.tools" "$copy/.tools" 2>/dev/null || true

cd "$copy"
echo "bench-loop: warm-up (untimed): go test $testflags ./tests/"
# shellcheck disable=SC2086 # TESTFLAGS is a list of flags
"$go" test $testflags ./tests/ >/dev/null

times=()
for i in $(seq 1 "$rounds"); do
  # A package variable with a new value each round: the compiled package
  # differs from every earlier round's. (A comment inserted at the same line
  # each round, or `var _ = "…"`, which the compiler drops, compiles to the
  # same object as the round before.)
  echo "var benchLoopEdit = \"bench-loop edit $(date +%s%N)-$i\"" >> "$edit_file"
  out="$(mktemp)"
  # shellcheck disable=SC2086
  /usr/bin/time -f '%e %M' -o "$out" "$go" test $testflags ./tests/ >/dev/null
  read -r secs kib < "$out"; rm -f "$out"
  echo "round $i: edit $edit_file -> go test ./tests/ (dev + prod mocked): ${secs} s, peak RSS $((kib / 1024)) MiB"
  times+=("$secs")
  # Drop the edit line again so the copy does not grow without bound.
  sed -i '/^var benchLoopEdit = "bench-loop edit /d' "$edit_file"
done
median="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
echo "bench-loop: median ${median} s over $rounds rounds (target <= 5 s warm); machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${PREVIEW:-0}" = 1 ]; then
  for stack in dev prod; do
    "$go" run ./cmd/preview-offline -stack "$stack" -color never >/dev/null 2>&1 || true # warm-up
    out="$(mktemp)"
    /usr/bin/time -f '%e %M' -o "$out" "$go" run ./cmd/preview-offline -stack "$stack" -color never >/dev/null
    read -r secs kib < "$out"; rm -f "$out"
    echo "preview-offline $stack (warm): ${secs} s, peak RSS $((kib / 1024)) MiB (target <= 10 s)"
  done
fi
