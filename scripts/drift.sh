#!/usr/bin/env bash
# Backticks in the printf formats are Markdown, not command substitution:
# shellcheck disable=SC2016
# Drift detection for one stack (drift.yml, daily): `pulumi preview
# --refresh --expect-no-changes` reads every resource back from the cloud and
# compares it with the program. Prints a Markdown report on stdout (for
# $GITHUB_STEP_SUMMARY) and, with --issue, keeps one GitHub issue per stack:
# opened or updated while the stack drifts, closed when the drift is gone.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
	cat <<'EOF'
Usage: scripts/drift.sh --stack STACK [--cwd DIR] [--issue] [--label NAME]

Runs `pulumi preview --refresh --expect-no-changes --json` for STACK and
prints Markdown on stdout: "no drift", or every resource whose real state
differs from the program (or from the recorded state) with the properties
that differ, old → new. Secret values stay "[secret]" (--show-secrets is
never passed). Progress and the CLI's errors go to stderr.

Options:
  --stack STACK   stack to check (org/stack with Pulumi Cloud)      required
  --cwd DIR       the Pulumi project directory (default: the repository)
  --issue         keep the stack's drift issue with `gh` (GH_TOKEN, and GH_REPO
                  or a GitHub remote): open it, or update its body and comment,
                  on drift; close it when there is none; leave it alone when
                  the check itself fails
  --label NAME    label of the drift issues (default: drift)
  -h, --help      this text

Exit status: 0 no drift, 1 drift, 2 usage, 3 the check failed (credentials,
backend, program error: nothing is known about drift).
Needs pulumi and jq (and gh with --issue); cloud credentials for the stack.
EOF
}

# shellcheck source=lib.sh
. "$here/lib.sh"

stack=""
cwd="$(cd "$here/.." && pwd)"
issue=false
label="drift"

while [ "$#" -gt 0 ]; do
	case "$1" in
	--stack)
		need_value "$1" "$#" "${2-}"
		stack="$2"
		shift 2
		;;
	--cwd)
		need_value "$1" "$#" "${2-}"
		cwd="$2"
		shift 2
		;;
	--label)
		need_value "$1" "$#" "${2-}"
		label="$2"
		shift 2
		;;
	--issue)
		issue=true
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) usage_error "unknown argument '$1'" ;;
	esac
done

[ -n "$stack" ] || usage_error "--stack is required"
[[ "$stack" =~ ^[A-Za-z0-9_./-]+$ ]] || usage_error "--stack must be a stack name (org/stack allowed), got '$stack'"
tools=(pulumi jq)
if [ "$issue" = true ]; then tools+=(gh); fi
need_tools "${tools[@]}"
[ -f "$cwd/Pulumi.yaml" ] || die "no Pulumi.yaml in $cwd (give the project with --cwd)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run_url=""
if [ -n "${GITHUB_RUN_ID:-}" ] && [ -n "${GITHUB_REPOSITORY:-}" ]; then
	run_url="${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
fi
checked_at="$(date -u +%Y-%m-%dT%H:%MZ)"
source_line="\`pulumi preview --refresh --expect-no-changes\` at $checked_at${run_url:+ ([run]($run_url))}"

log "checking stack $stack for drift (pulumi preview --refresh --expect-no-changes)"
status=0
pulumi preview --stack "$stack" --cwd "$cwd" --refresh --expect-no-changes --json \
	>"$work/preview.json" 2>"$work/stderr" || status=$?
cat "$work/stderr" >&2

# The JSON document is printed even when the preview fails on
# --expect-no-changes (exit 7 since CLI v3.2xx; older CLIs exit 255).
valid=false
if jq -se 'length == 1 and (.[0] | type == "object")' "$work/preview.json" >/dev/null 2>&1; then
	valid=true
fi

# Operations that change nothing: everything else is drift, as for the
# engine's --expect-no-changes (engine.HasChanges), plus the refresh steps
# the JSON rewrites to update/delete when the cloud differs from the state.
quiet_ops='["same", "read", "discard", "read-replacement", "refresh"]'

drifted=0
if [ "$valid" = true ]; then
	drifted="$(jq --argjson quiet "$quiet_ops" '
		[.steps // [] | .[] | select(.op as $op | $quiet | index($op) | not)
		 | select(.urn | test("::pulumi:pulumi:Stack::") | not) | .urn] | unique | length' "$work/preview.json")"
	summary_changes="$(jq --argjson quiet "$quiet_ops" '[.changeSummary // {} | to_entries[] | select(.key as $k | $quiet | index($k) | not) | .value] | add // 0' "$work/preview.json")"
	if [ "$drifted" -eq 0 ] && [ "$summary_changes" -gt 0 ]; then
		drifted="$summary_changes"
	fi
fi

if [ "$valid" != true ] || { [ "$status" -ne 0 ] && [ "$drifted" -eq 0 ]; }; then
	printf '### Drift check of `%s`: failed\n\n' "$stack"
	printf '%s did not complete (exit %s), so nothing is known about drift; see the job log.\n' "$source_line" "$status"
	if [ -s "$work/stderr" ]; then
		printf '\n```\n%s\n```\n' "$(tail -n 20 "$work/stderr")"
	fi
	log "the drift check failed (pulumi exit $status); the drift issue is left as it is"
	exit 3
fi

# report writes the Markdown report of the drifted resources.
report() {
	printf '### Drift in stack `%s`: %s resource(s) differ\n\n' "$stack" "$drifted"
	printf '%s found resources whose real state differs from the program or from the recorded state: someone changed or deleted them outside Pulumi. The next `pulumi up` changes them back to what the program declares; if a change was intended, put it in the program.\n\n' "$source_line"
	jq -r --argjson quiet "$quiet_ops" '
		# A property path of the engine ("a.b[0].c", ["key.with.dots"]) as a jq path.
		def ppath: [scan("\\[\"(?:[^\"\\\\]|\\\\.)*\"\\]|\\[[0-9]+\\]|[^.\\[\\]]+")]
			| map(if startswith("[\"") then .[2:-2] elif startswith("[") then (.[1:-1] | tonumber) else . end);
		def at($obj; $p): try ($obj | getpath($p | ppath)) catch null;
		def show: if . == null then "(none)" else (tojson | if length > 100 then .[0:97] + "…" else . end) end
			| gsub("`"; "ˋ") | "`" + . + "`";
		def name: .urn | split("::") | last;
		def type: .urn | split("::") | .[2] | split("$") | last;
		[.steps // [] | .[] | select(.op as $op | $quiet | index($op) | not)
		 | select(.urn | test("::pulumi:pulumi:Stack::") | not)]
		| unique_by(.urn + .op) | sort_by(type, name) | .[]
		| . as $s
		| "- **\(.op)** `\(name)` (`\(type)`)"
		  + (if .op == "create" then " — missing: deleted outside Pulumi, or never created; `pulumi up` creates it"
		     elif .op == "delete" then " — in the state, not in the program; `pulumi up` deletes it"
		     else "" end),
		  ((.detailedDiff // {}) | to_entries | sort_by(.key) | .[]
		   | (at($s.oldState.outputs // $s.oldState.inputs; .key)) as $old
		   | (at($s.newState.inputs // $s.newState.outputs; .key)) as $new
		   | "  - `\(.key)` (\(.value.kind)): \($old | show) → \($new | show)"),
		  (if (.detailedDiff // {}) == {} and ((.diffReasons // []) + (.replaceReasons // []) | length) > 0
		   then "  - properties: " + ((.diffReasons // []) + (.replaceReasons // []) | unique | map("`" + . + "`") | join(", "))
		   else empty end)
	' "$work/preview.json"
	printf '\nSecret values show as `[secret]`. Stack: `%s`.\n' "$stack"
}

title="Infrastructure drift in stack $stack"

# drift_issue prints the number of the open drift issue of this stack, if any.
drift_issue() {
	gh issue list --state open --label "$label" --limit 100 --json number,title |
		jq -r --arg t "$title" '[.[] | select(.title == $t) | .number] | first // empty'
}

if [ "$drifted" -eq 0 ]; then
	printf '### Drift check of `%s`: no drift\n\n%s: every resource matches the program and the recorded state.\n' "$stack" "$source_line"
	if [ "$issue" = true ]; then
		number="$(drift_issue)" || die "could not list the drift issues (gh issue list)"
		if [ -n "$number" ]; then
			gh issue close "$number" --comment "No drift any more: $source_line found no changes." >&2 ||
				die "could not close drift issue #$number"
			log "closed drift issue #$number"
			printf '\nClosed the drift issue #%s.\n' "$number"
		fi
	fi
	exit 0
fi

report | tee "$work/report.md"
if [ "$issue" = true ]; then
	{
		cat "$work/report.md"
		printf '\nThis issue is kept by `scripts/drift.sh` (workflow `drift`): updated while the stack drifts, closed when a check finds no drift.\n'
	} >"$work/body.md"
	gh label create "$label" --color D93F0B --description "Infrastructure changed outside Pulumi (scripts/drift.sh)" --force >/dev/null 2>&1 ||
		log "could not create the label '$label' (it may exist already)"
	number="$(drift_issue)" || die "could not list the drift issues (gh issue list)"
	if [ -n "$number" ]; then
		gh issue edit "$number" --body-file "$work/body.md" >&2 || die "could not update drift issue #$number"
		gh issue comment "$number" --body "Still drifting: $drifted resource(s) at $checked_at${run_url:+ ([run]($run_url))}; the description has the latest report." >&2 ||
			die "could not comment on drift issue #$number"
		log "updated drift issue #$number"
		printf '\nUpdated the drift issue #%s.\n' "$number"
	else
		url="$(gh issue create --title "$title" --label "$label" --body-file "$work/body.md")" ||
			die "could not open a drift issue (gh issue create)"
		log "opened drift issue $url"
		printf '\nOpened the drift issue %s.\n' "$url"
	fi
fi
exit 1
