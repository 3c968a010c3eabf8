#!/usr/bin/env bash
# Backticks in the printf formats are Markdown, not command substitution:
# shellcheck disable=SC2016
# The fork path of the pull-request preview: an offline preview (real Pulumi
# engine, stand-in providers, our policy pack; no AWS) of this checkout and of
# the base commit, and the difference between the two as Markdown on stdout
# (for $GITHUB_STEP_SUMMARY).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
	cat <<'EOF'
Usage: scripts/preview-diff.sh --stack STACK [--base REF] [--out-dir DIR] [--policy-pack DIR ...]

Runs the offline preview (`make preview-offline`'s command, with its output in
a temporary directory) here and in a temporary git worktree of REF, then
prints Markdown on stdout: the resources and inputs that differ
(`preview-render -diff`), the change in monthly cost (scripts/cost-diff.sh),
the policy check of this checkout's preview (`preview-render -check`) and its
resource tree. Progress goes to stderr.

Options:
  --stack STACK    stack to preview (Pulumi.STACK.yaml)                required
  --base REF       commit to compare with (a pull request's base sha);
                   without it only this checkout is previewed
  --out-dir DIR    keep head.json and base.json here (default: a temp dir)
  --no-cost        leave out the cost diff (scripts/cost-diff.sh)
  --policy-pack DIR  another policy pack (any runtime: go, nodejs, python)
                   for this checkout's preview, next to policy/; repeatable.
                   A nodejs pack without node_modules gets `npm ci` first
  -h, --help       this text

Exit status: 0 when this checkout previews with no mandatory policy
violation of any pack (whatever the base does), 1 otherwise, 2 usage. The
base is previewed with its own default pack only: it is there for the diff.
Needs git, make and go; the first run builds the pinned Pulumi CLI (minutes).
These previews are not AWS: every value the providers would compute is unknown.
EOF
}

# shellcheck source=lib.sh
. "$here/lib.sh"

stack=""
base=""
out_dir=""
with_cost=1
packs=()
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
	--out-dir)
		need_value "$1" "$#" "${2-}"
		out_dir="$2"
		shift 2
		;;
	--no-cost)
		with_cost=0
		shift
		;;
	--policy-pack)
		need_value "$1" "$#" "${2-}"
		[ -f "$2/PulumiPolicy.yaml" ] || usage_error "--policy-pack $2: no PulumiPolicy.yaml there"
		packs+=("$(cd "$2" && pwd)")
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
need_tools git make go
[ -f "$root/Pulumi.$stack.yaml" ] || die "no Pulumi.$stack.yaml in $root"

make_work_dir

# The base worktree reuses this checkout's Pulumi CLI (make pulumi-cli links
# a compatible one found on PATH instead of building it again).
export PATH="$root/.tools/bin:$PATH"

# offline_preview DIR OUT [FLAGS]: the offline preview of the checkout in DIR
# (make pulumi-cli, then the preview command docs/offline-preview.md names),
# its files written to OUT, so .preview/ of the checkout is left alone.
offline_preview() {
	local dir="$1" out="$2"
	shift 2
	make -C "$dir" --no-print-directory pulumi-cli >&2 &&
		(cd "$dir" && go run ./cmd/preview-offline -stack "$stack" -color never -out "$out" "$@") >&2
}

# This checkout's packs: policy/ and the extra ones. A nodejs pack's
# dependencies are installed as its lock file pins them.
head_flags=()
if [ "${#packs[@]}" -gt 0 ]; then
	head_flags+=(-policy-pack "$root/policy")
	for p in "${packs[@]}"; do
		if [ -f "$p/package.json" ] && [ ! -d "$p/node_modules" ]; then
			need_tools npm
			log "npm ci in $p"
			if [ -f "$p/package-lock.json" ]; then
				(cd "$p" && npm ci --no-audit --no-fund) >&2
			else
				(cd "$p" && npm install --no-audit --no-fund) >&2
			fi
		fi
		head_flags+=(-policy-pack "$p")
	done
fi

log "offline preview of this checkout ($stack; policy packs: policy${packs[*]:+ ${packs[*]}})"
if ! offline_preview "$root" "$work/head" "${head_flags[@]}"; then
	printf "### Offline preview of \`%s\`: failed\n\nThe offline preview of this pull request failed; see the job log.\n" "$stack"
	# A mandatory violation of any pack fails the preview: show the
	# engine's policy section.
	if [ -f "$work/head/preview.txt" ] && grep -q '^Policies:' "$work/head/preview.txt"; then
		printf '\n```\n'
		awk '/^Policies:$/ { on = 1 } on && /^[A-Z][A-Za-z ]*:$/ && !/^Policies:$/ { exit } on' "$work/head/preview.txt"
		printf '```\n'
	fi
	exit 1
fi
cp "$work/head/preview.json" "$out_dir/head.json"

render() {
	(cd "$root" && go run ./cmd/preview-render "$@")
}

printf '### Offline preview of `%s` (no AWS: stand-in providers, computed values unknown)\n\n' "$stack"

if [ -n "$base" ]; then
	base_sha="$(git -C "$root" rev-parse --verify --quiet "$base^{commit}")" || die "unknown base commit '$base' (fetch it first: git fetch origin $base)"
	worktree="$work/base"
	git -C "$root" worktree add --detach --quiet "$worktree" "$base_sha" >&2
	log "offline preview of the base ${base_sha:0:12} ($stack)"
	if ! grep -q '^preview-offline:' "$worktree/Makefile" 2>/dev/null || [ ! -f "$worktree/Pulumi.$stack.yaml" ]; then
		printf 'The base `%s` has no offline preview of `%s`: nothing to compare with.\n\n' "${base_sha:0:12}" "$stack"
	elif offline_preview "$worktree" "$work/base-out"; then
		cp "$work/base-out/preview.json" "$out_dir/base.json"
		printf '#### Changes against the base `%s`\n\n```\n' "${base_sha:0:12}"
		render -diff "$out_dir/base.json" "$out_dir/head.json"
		printf '```\n\n'
	else
		printf 'The offline preview of the base `%s` failed, so there is nothing to compare with.\n\n' "${base_sha:0:12}"
	fi
fi

# The change in monthly cost (scripts/cost-diff.sh, against the same base
# checkout); a failed estimate is reported here and does not change the exit status.
cost_args=(--stack "$stack" --out-dir "$out_dir")
if [ -n "$worktree" ]; then
	cost_args+=(--base-dir "$worktree")
fi
if [ "$with_cost" = 1 ]; then
	"$here/cost-diff.sh" "${cost_args[@]}" || log "the cost estimate failed (see above)"
	printf '\n'
fi

status=0
printf '#### Policy pack\n\n```\n'
render -check "$out_dir/head.json" 2>&1 || status=$?
printf '```\n\n'
printf '<details><summary>Resource tree</summary>\n\n```\n'
render -tree "$out_dir/head.json"
printf '```\n\n</details>\n'
if [ "$status" -ne 0 ]; then
	log "policy check failed (exit $status)"
	exit 1
fi
