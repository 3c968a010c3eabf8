# shellcheck shell=bash
# Helpers shared by the scripts in this directory. Source it; do not run it.
#
# The calling script defines usage() before sourcing this file.

# die prints an error to stderr and exits 1.
die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# usage_error prints an error and the usage text to stderr and exits 2.
usage_error() {
	printf '%s: %s\n\n' "${0##*/}" "$*" >&2
	usage >&2
	exit 2
}

# log prints a progress line to stderr (stdout is kept for a script's result).
log() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# need_tools fails with one message naming every missing command.
need_tools() {
	local missing=() t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		die "required tool(s) not found on PATH: ${missing[*]}"
	fi
}

# need_value fails when an option's argument is missing: need_value --flag "$#" "${2-}".
need_value() {
	if [ "$2" -lt 2 ] || [ -z "$3" ]; then
		usage_error "option $1 needs a value"
	fi
}

# need_stack_name fails unless --stack was given as a plain stack name
# (it becomes part of file names and command lines).
need_stack_name() {
	[ -n "$1" ] || usage_error "--stack is required"
	[[ "$1" =~ ^[A-Za-z0-9_.-]+$ ]] || usage_error "--stack must be a plain stack name, got '$1'"
}

# stack_outputs STACK [CWD] prints the stack's outputs as JSON.
stack_outputs() {
	local stack="$1" cwd="${2:-.}" out
	if ! out="$(pulumi stack output --json --stack "$stack" --cwd "$cwd")"; then
		die "could not read the outputs of stack '$stack' (pulumi stack output --json --stack $stack)"
	fi
	printf '%s\n' "$out"
}

# output_field JSON NAME prints one string/bool/number output, or fails naming it.
output_field() {
	local json="$1" name="$2" v
	v="$(jq -r --arg k "$name" 'if has($k) and .[$k] != null then .[$k] | tostring else empty end' <<<"$json")" ||
		die "stack outputs are not valid JSON"
	[ -n "$v" ] || die "stack output '$name' is missing (expected it from infra's stack outputs)"
	printf '%s\n' "$v"
}

# random_hex N prints N random bytes as 2N lowercase hex characters.
random_hex() {
	head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'
}

# make_work_dir: sets $work, a temporary directory removed on exit together
# with the git worktree $worktree of $root if the caller sets one, and makes
# $out_dir (default $work/out) exist and absolute.
make_work_dir() {
	work="$(mktemp -d)"
	worktree=""
	trap remove_work_dir EXIT
	if [ -z "$out_dir" ]; then
		out_dir="$work/out"
	fi
	mkdir -p "$out_dir"
	out_dir="$(cd "$out_dir" && pwd)"
}

remove_work_dir() {
	if [ -n "$worktree" ]; then
		git -C "${root:?}" worktree remove --force "$worktree" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
