#!/usr/bin/env bash
# Backticks in the printf formats are Markdown, not command substitution:
# shellcheck disable=SC2016
# The cost part of a pull request's preview: `go run ./cmd/cost` (the mocked
# graph of the real program priced with cost/prices.yaml and the stack's
# usage file; no AWS) here and on the base, and the change in monthly cost by
# resource as Markdown on stdout (for $GITHUB_STEP_SUMMARY or a comment).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
	cat <<'EOF'
Usage: scripts/cost-diff.sh --stack STACK [--base REF | --base-dir DIR] [--out-dir DIR]

Estimates the monthly cost of STACK in this checkout (`make cost`'s command,
-format json) and, with --base or --base-dir, in the base too, then prints
Markdown on stdout: the change by resource (`cost -diff`) and this checkout's
estimate. Progress goes to stderr.

Options:
  --stack STACK    stack to estimate (Pulumi.STACK.yaml)                  required
  --base REF       commit to compare with; checked out in a temporary git
                   worktree
  --base-dir DIR   an existing checkout of the base (instead of --base)
  --out-dir DIR    keep head-cost.json and base-cost.json here (default: a temp dir)
  -h, --help       this text

Exit status: 0 when this checkout's estimate succeeds (whatever the base
does), 1 otherwise, 2 usage. Needs git and go. An estimate, not a bill.
EOF
}

# shellcheck source=lib.sh
. "$here/lib.sh"

stack=""
base=""
base_dir=""
out_dir=""
root="$(cd "$here/.." && pwd)"

while [ "$#" -gt 0 ]; do
	case "$1" in
	--stack)
		need_value "$1" "$#" "${2-}"
		stack="$2"
		shift 2
		;;
	--base)
		need_value "$1" "$#" "${2-}"
		base="$2"
		shift 2
		;;
	--base-dir)
		need_value "$1" "$#" "${2-}"
		base_dir="$2"
		shift 2
		;;
	--out-dir)
		need_value "$1" "$#" "${2-}"
		out_dir="$2"
		shift 2
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) usage_error "unknown argument '$1'" ;;
	esac
done

need_stack_name "$stack"
[ -z "$base" ] || [ -z "$base_dir" ] || usage_error "--base and --base-dir exclude each other"
need_tools git go
[ -f "$root/Pulumi.$stack.yaml" ] || die "no Pulumi.$stack.yaml in $root"
[ -z "$base_dir" ] || [ -d "$base_dir" ] || die "--base-dir $base_dir is not a directory"

make_work_dir

# estimate DIR OUT: the JSON estimate of the checkout in DIR, by its own
# cmd/cost (built once per checkout: it links the whole program).
estimate() {
	(cd "$1" && go build -o "$work/cost-$2" ./cmd/cost && "$work/cost-$2" -stack "$stack" -format json) >"$out_dir/$2-cost.json"
}

log "cost estimate of this checkout ($stack)"
if ! estimate "$root" head; then
	printf '#### Cost of `%s`: the estimate failed\n\nSee the job log (`go run ./cmd/cost -stack %s`).\n' "$stack" "$stack"
	exit 1
fi

# cost ARGS...: this checkout's cmd/cost (renders and diffs saved estimates).
cost() {
	(cd "$root" && "$work/cost-head" "$@")
}

if [ -n "$base" ]; then
	base_sha="$(git -C "$root" rev-parse --verify --quiet "$base^{commit}")" || die "unknown base commit '$base' (fetch it first: git fetch origin $base)"
	worktree="$work/base"
	git -C "$root" worktree add --detach --quiet "$worktree" "$base_sha" >&2
	base_dir="$worktree"
fi
if [ -n "$base_dir" ]; then
	label="$(git -C "$base_dir" rev-parse --short=12 HEAD 2>/dev/null || echo "$base_dir")"
	if [ ! -f "$base_dir/cmd/cost/main.go" ] || [ ! -f "$base_dir/Pulumi.$stack.yaml" ]; then
		printf 'The base `%s` has no cost estimate of `%s`: nothing to compare with.\n\n' "$label" "$stack"
	elif log "cost estimate of the base $label ($stack)" && estimate "$base_dir" base; then
		cost -diff -format markdown "$out_dir/base-cost.json" "$out_dir/head-cost.json"
		printf '\n'
	else
		printf 'The cost estimate of the base `%s` failed, so there is nothing to compare with.\n\n' "$label"
	fi
fi
printf '<details><summary>Cost estimate of this pull request</summary>\n\n'
cost -format markdown -from "$out_dir/head-cost.json"
printf '\n</details>\n'
