#!/usr/bin/env bash
# Provides .tools/bin/pulumi, the Pulumi CLI the offline preview runs
# (`make pulumi-cli`). In order:
#   1. .tools/bin/pulumi already there at a compatible version: reused;
#   2. a `pulumi` on PATH at a compatible version: linked there;
#   3. otherwise built from the Go module proxy at the version pinned in
#      tools/pulumi/go.mod (github.com/pulumi/pulumi/pkg/v3): ~5–10 minutes
#      and ~2 GB of module downloads cold, seconds once the Go build cache has it.
# Compatible: the pinned version or newer, same major version.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
want="$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2 }' "$root/tools/pulumi/go.mod")"
[ -n "$want" ] || { echo "pulumi-cli: no pkg/v3 version in tools/pulumi/go.mod" >&2; exit 1; }
bin="$root/.tools/bin/pulumi"

version_of() { PULUMI_SKIP_UPDATE_CHECK=true "$1" version 2>/dev/null | tail -n 1 | tr -d '[:space:]'; }

# compatible VERSION: same major as $want and not older.
compatible() {
  local v="${1#v}" w="${want#v}"
  [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || return 1
  [ "${v%%.*}" = "${w%%.*}" ] || return 1
  [ "$(printf '%s\n%s\n' "$w" "${BASH_REMATCH[0]}" | sort -V | head -n 1)" = "$w" ]
}

if [ -x "$bin" ] && compatible "$(version_of "$bin")"; then
  echo "pulumi-cli: $bin $(version_of "$bin") (cached)"
  exit 0
fi

mkdir -p "$(dirname "$bin")"
if onpath="$(command -v pulumi 2>/dev/null)" && [ "$onpath" != "$bin" ] && compatible "$(version_of "$onpath")"; then
  ln -sfn "$onpath" "$bin"
  echo "pulumi-cli: using $onpath $(version_of "$onpath") from PATH"
  exit 0
fi

echo "pulumi-cli: building the Pulumi CLI $want from the Go module proxy (several minutes the first time)..."
start=$(date +%s)
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# The version stamp lets the Automation API's version check pass; -s -w
# drop debug info (115 MB instead of 160 MB).
(cd "$root/tools/pulumi" && go build -o "$tmp" \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$want" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
mv -f "$tmp" "$bin"
echo "pulumi-cli: built $bin $(version_of "$bin") in $(( $(date +%s) - start ))s"
