#!/usr/bin/env bash
# The seed's curl flow against a deployed API (or the app itself): list,
# create, read, update and delete a book, with and without credentials, and
# in dev the API Gateway limits demo. Exits non-zero on any unexpected status.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
	cat <<'EOF'
Usage: scripts/smoke-test.sh --stack STACK [options]
       scripts/smoke-test.sh --url URL (--token TOKEN | --skip-token) [options]

Against the API Gateway (Cognito ID token):
  --stack STACK       read apiUrl and limitsDemoEnabled from the stack's outputs
                      and get a token with scripts/cognito-token.sh --stack STACK
  --url URL           the API's base URL (e.g. https://abc.execute-api.eu-west-1.amazonaws.com/v1)
  --token TOKEN       a Cognito ID token (or set BOOKS_ID_TOKEN); with --stack it
                      replaces the cognito-token.sh step
  Without credentials, GET /book must answer 200 (public) and every other book
  route 401.

Against the service directly (no gateway, e.g. the app on localhost):
  --skip-token        skip the Cognito step; send HTTP Basic credentials instead:
                      user from --basic-auth-user (default books), password from
                      the BASIC_AUTH_PASSWORD environment variable
  Without credentials, every book route must answer 401.

Other options:
  --limits            also run the limits demo: GET /limits/time/exceed -> 504,
                      an 11 MB PUT /limits/payload/{key} -> 413
  --no-limits         skip it (default without --stack; with --stack the
                      limitsDemoEnabled output decides)
  --wait SECONDS      retry the first request while it fails to connect or
                      answers 5xx, up to SECONDS (default 0; a fresh deploy may
                      need a minute)
  --cwd DIR           directory holding Pulumi.yaml (default: the repository root)
  -h, --help          this text

Needs curl and jq (and pulumi, aws with --stack). Credentials reach curl through
a header file readable only by this user, never through its command line, and
are never printed.
EOF
}

# shellcheck source=lib.sh
. "$here/lib.sh"

stack=""
url=""
token="${BOOKS_ID_TOKEN:-}"
skip_token=false
basic_user="books"
limits=""
wait_seconds=0
cwd="$(cd "$here/.." && pwd)"

while [ "$#" -gt 0 ]; do
	case "$1" in
	--stack)
		need_value "$1" "$#" "${2-}"
		stack="$2"
		shift 2
		;;
	--url)
		need_value "$1" "$#" "${2-}"
		url="$2"
		shift 2
		;;
	--token)
		need_value "$1" "$#" "${2-}"
		token="$2"
		shift 2
		;;
	--skip-token)
		skip_token=true
		shift
		;;
	--basic-auth-user)
		need_value "$1" "$#" "${2-}"
		basic_user="$2"
		shift 2
		;;
	--limits)
		limits=true
		shift
		;;
	--no-limits)
		limits=false
		shift
		;;
	--wait)
		need_value "$1" "$#" "${2-}"
		wait_seconds="$2"
		shift 2
		;;
	--cwd)
		need_value "$1" "$#" "${2-}"
		cwd="$2"
		shift 2
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) usage_error "unknown argument '$1'" ;;
	esac
done

[[ "$wait_seconds" =~ ^[0-9]+$ ]] || usage_error "--wait needs a number of seconds, got '$wait_seconds'"
if [ -n "$stack" ] && [ -n "$url" ]; then
	usage_error "use either --stack or --url, not both"
fi
[ -n "$stack$url" ] || usage_error "--stack or --url is required"
if $skip_token && [ -n "$token" ]; then
	usage_error "--skip-token and a token (--token or BOOKS_ID_TOKEN) exclude each other"
fi
need_tools curl jq

if [ -n "$stack" ]; then
	need_tools pulumi
	outputs="$(stack_outputs "$stack" "$cwd")"
	url="$(output_field "$outputs" apiUrl)"
	if [ -z "$limits" ]; then
		limits="$(output_field "$outputs" limitsDemoEnabled)"
	fi
fi
url="${url%/}"
[[ "$url" =~ ^https?://[^[:space:]]+$ ]] || die "the API URL must be http(s)://…, got '$url'"
[ -n "$limits" ] || limits=false
[ "$limits" = true ] || [ "$limits" = false ] || die "limitsDemoEnabled must be true or false, got '$limits'"

workdir="$(mktemp -d)"
chmod 700 "$workdir"
created_id=""
cleanup() {
	if [ -n "$created_id" ]; then
		# Best effort: do not leave the smoke test's book behind after a failure.
		curl -sS -o /dev/null --max-time 10 -X DELETE -H "@$workdir/auth.hdr" "$url/book/$created_id" 2>/dev/null || true
	fi
	rm -rf "$workdir"
}
trap cleanup EXIT

if $skip_token; then
	[ -n "${BASIC_AUTH_PASSWORD:-}" ] || die "--skip-token needs the service's password in BASIC_AUTH_PASSWORD"
	printf 'Authorization: Basic %s\n' "$(printf '%s:%s' "$basic_user" "$BASIC_AUTH_PASSWORD" | base64 | tr -d '\n')" >"$workdir/auth.hdr"
	public_list=401
	mode="service (HTTP Basic as user $basic_user, Cognito step skipped)"
else
	if [ -z "$token" ]; then
		[ -n "$stack" ] || usage_error "give --token (or BOOKS_ID_TOKEN), or --skip-token against the service itself"
		token="$("$here/cognito-token.sh" --stack "$stack" --cwd "$cwd")" || die "could not get a Cognito ID token"
	fi
	printf 'Authorization: %s\n' "$token" >"$workdir/auth.hdr"
	public_list=200
	mode="gateway (Cognito ID token)"
fi
: >"$workdir/none.hdr"

log "API $url, $mode, limits demo: $limits"

status=""
body="$workdir/body"

# call AUTH METHOD PATH [MAX_TIME] [CURL_ARGS...]: one request; sets $status,
# the response body is in $body. AUTH is auth or none.
call() {
	local auth="$1" method="$2" path="$3" max_time="$4"
	shift 4
	status="$(curl -sS -o "$body" -w '%{http_code}' --max-time "$max_time" -X "$method" \
		-H "@$workdir/$auth.hdr" "$@" "$url$path" 2>"$workdir/curl.err")" || true
	[ -n "$status" ] || status=000
}

# expect WANT WHAT: checks $status, prints one line; stops the run on a mismatch.
expect() {
	local want="$1" what="$2"
	if [ "$status" = "$want" ]; then
		printf 'ok    %s %s\n' "$status" "$what"
		return
	fi
	printf 'FAIL  %s %s (expected %s)\n' "$status" "$what" "$want"
	if [ -s "$workdir/curl.err" ]; then
		sed 's/^/      curl: /' "$workdir/curl.err" | head -3
	fi
	if [ -s "$body" ]; then
		printf '      body: %s\n' "$(head -c 300 "$body" | tr -d '\r\n')"
	fi
	exit 1
}

# json_field FIELD: prints a field of the last response body.
json_field() {
	jq -er --arg f "$1" '.[$f] | tostring' "$body" 2>/dev/null || {
		printf 'FAIL  response has no "%s": %s\n' "$1" "$(head -c 300 "$body")" >&2
		exit 1
	}
}

# same GOT WANT WHAT: fails the run unless GOT equals WANT.
same() {
	if [ "$1" != "$2" ]; then
		printf 'FAIL  %s is "%s", expected "%s"\n' "$3" "$1" "$2"
		exit 1
	fi
}

json_book() {
	jq -n --arg t "$1" --arg a "$2" --argjson y "$3" '{title: $t, author: $a, year: $y}'
}

run_id="$(date -u +%Y%m%dT%H%M%SZ)-$(random_hex 3)"
title="Smoke test $run_id"

# 1. The first request, retried while the API is not up yet.
# Bash's SECONDS counts whole seconds and ticks at any point of one, so
# SECONDS + N can come round after a little more than N-1 s (with --wait 1,
# a first attempt refused in 10 ms was sometimes never retried): one more
# second makes the budget at least N s. --wait 0 stays "no retry".
deadline=$((SECONDS + wait_seconds + (wait_seconds > 0)))
while :; do
	call none GET "/book?limit=5" 20
	if [ "$status" != 000 ] && [ "${status:0:1}" != 5 ]; then
		break
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		break
	fi
	log "GET /book answered $status; retrying"
	sleep 2
done
expect "$public_list" "GET /book without credentials"

call none POST /book 20 -H 'Content-Type: application/json' --data-binary "$(json_book "$title" "Smoke" 1965)"
expect 401 "POST /book without credentials"

call auth POST /book 20 -H 'Content-Type: application/json' --data-binary "$(json_book "$title" "Smoke" 1965)"
expect 201 "POST /book"
created_id="$(json_field id)"
same "$(json_field title)" "$title" "POST /book: title"

call auth GET "/book/$created_id" 20
expect 200 "GET /book/{id}"
same "$(json_field id)" "$created_id" "GET /book/{id}: id"
same "$(json_field title)" "$title" "GET /book/{id}: title"

call none GET "/book/$created_id" 20
expect 401 "GET /book/{id} without credentials"

call auth GET "/book?limit=100" 20
expect 200 "GET /book"
same "$(jq -r '.items | type' "$body" 2>/dev/null || true)" array "GET /book: type of items"

call none PUT "/book/$created_id" 20 -H 'Content-Type: application/json' --data-binary "$(json_book "$title (edited)" "Smoke" 1966)"
expect 401 "PUT /book/{id} without credentials"

call auth PUT "/book/$created_id" 20 -H 'Content-Type: application/json' --data-binary "$(json_book "$title (edited)" "Smoke" 1966)"
expect 200 "PUT /book/{id}"
same "$(json_field title)" "$title (edited)" "PUT /book/{id}: title"
same "$(json_field year)" 1966 "PUT /book/{id}: year"
same "$(json_field version)" 2 "PUT /book/{id}: version"

# The stage cache may still hold the GET from before the PUT (for its 60 s
# TTL). Cache-Control: max-age=0 is how a client reads its own write: the
# gateway fetches from the service and replaces its entry.
call auth GET "/book/$created_id" 20 -H 'Cache-Control: max-age=0'
expect 200 "GET /book/{id} with Cache-Control: max-age=0 after the PUT"
same "$(json_field title)" "$title (edited)" "GET /book/{id} after the PUT: title"
same "$(json_field version)" 2 "GET /book/{id} after the PUT: version"

call none DELETE "/book/$created_id" 20
expect 401 "DELETE /book/{id} without credentials"

call auth DELETE "/book/$created_id" 20
expect 204 "DELETE /book/{id}"
deleted_id="$created_id"
created_id=""

# DELETE is never served from the stage cache, so a second one proves the
# book is gone even where a cached GET could still return it.
call auth DELETE "/book/$deleted_id" 20
expect 404 "DELETE /book/{id} again"

if [ "$limits" = true ]; then
	# API Gateway's 29 s integration timeout answers 504 while the Lambda sleeps 30 s.
	call auth GET /limits/time/exceed 60
	expect 504 "GET /limits/time/exceed (integration timeout)"

	head -c $((11 * 1024 * 1024)) /dev/zero >"$workdir/payload.bin"
	call auth PUT "/limits/payload/smoke-$run_id" 60 -H 'Content-Type: application/octet-stream' --data-binary "@$workdir/payload.bin"
	expect 413 "PUT /limits/payload/{key} with 11 MB (over the 10 MB payload limit)"
fi

echo "smoke test passed: $url"
