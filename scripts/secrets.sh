#!/usr/bin/env bash
# Generates the stack's required secrets and stores them with
# `pulumi config set --secret`. Idempotent: a valid existing secret is kept.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
	cat <<'EOF'
Usage: scripts/secrets.sh --stack STACK [--rotate KEY]... [--rotate-all] [--cwd DIR]

Sets the stack secrets the program requires, as Pulumi secrets:
  books:basicAuthPassword  Basic-auth password between API Gateway and the service
  books:cacheAuthToken     ElastiCache AUTH token (16-128 printable characters,
                           no space, ", / or @)
Each new value is 32 random bytes from /dev/urandom, hex-encoded (64 characters).
A value that is already set as a secret and valid is left alone; a missing one
is generated. A value stored in plain text, too short or with characters
ElastiCache rejects is an error unless that key is rotated.

Options:
  --stack STACK   stack name (or set STACK)                      required
  --rotate KEY    replace KEY even when it is valid (basicAuthPassword or
                  cacheAuthToken, with or without the "books:" prefix); repeatable
  --rotate-all    replace both
  --cwd DIR       directory holding Pulumi.yaml (default: the repository root)
  -h, --help      this text

Values are never printed. The stack must exist (pulumi stack init STACK) and
the backend must be logged in; the passphrase secrets provider needs
PULUMI_CONFIG_PASSPHRASE (or _FILE).

Rotating cacheAuthToken changes the ElastiCache AUTH token on the next
`pulumi up`; rotating basicAuthPassword changes the service secret and the
gateway's integration header together.
EOF
}

# shellcheck source=lib.sh
. "$here/lib.sh"

keys=(books:basicAuthPassword books:cacheAuthToken)
stack="${STACK:-}"
cwd="$(cd "$here/.." && pwd)"
rotate=()

normalize_key() {
	case "$1" in
	basicAuthPassword | books:basicAuthPassword) echo books:basicAuthPassword ;;
	cacheAuthToken | books:cacheAuthToken) echo books:cacheAuthToken ;;
	*) usage_error "unknown key '$1' (known: basicAuthPassword, cacheAuthToken)" ;;
	esac
}

while [ "$#" -gt 0 ]; do
	case "$1" in
	--stack)
		need_value "$1" "$#" "${2-}"
		stack="$2"
		shift 2
		;;
	--rotate)
		need_value "$1" "$#" "${2-}"
		rotate+=("$(normalize_key "$2")")
		shift 2
		;;
	--rotate-all)
		rotate+=("${keys[@]}")
		shift
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

[ -n "$stack" ] || usage_error "--stack (or STACK) is required"
[ -f "$cwd/Pulumi.yaml" ] || die "no Pulumi.yaml in $cwd (use --cwd)"
need_tools pulumi jq head od tr

is_rotated() {
	local k
	for k in "${rotate[@]+"${rotate[@]}"}"; do
		[ "$k" = "$1" ] && return 0
	done
	return 1
}

# problem KEY VALUE prints why VALUE is not acceptable for KEY (nothing when it is).
# Mirrors infra/config.go's secretRules.
problem() {
	local key="$1" value="$2"
	if [ "${#value}" -lt 16 ]; then
		echo "is shorter than 16 characters"
		return
	fi
	if [ "$key" = books:cacheAuthToken ]; then
		if [ "${#value}" -gt 128 ]; then
			echo "is longer than ElastiCache's 128-character limit"
		elif [ "$(printf '%s' "$value" | LC_ALL=C tr -d '!#-.0-?A-~' | wc -c)" -ne 0 ]; then
			echo 'contains a character ElastiCache rejects (allowed: printable ASCII except space, ", / and @)'
		fi
	fi
}

if ! config_json="$(pulumi config --json --stack "$stack" --cwd "$cwd")"; then
	die "could not read the config of stack '$stack' (does it exist? pulumi stack init $stack --cwd $cwd)"
fi

set_secret() {
	# The value goes through stdin, never the command line (which `ps` shows).
	random_hex 32 | pulumi config set --secret "$1" --stack "$stack" --cwd "$cwd" >/dev/null ||
		die "pulumi config set --secret $1 failed"
}

failed=0
for key in "${keys[@]}"; do
	present="$(jq -r --arg k "$key" 'if has($k) then "yes" else "no" end' <<<"$config_json")"
	secret="$(jq -r --arg k "$key" '.[$k].secret // false' <<<"$config_json")"
	if is_rotated "$key"; then
		set_secret "$key"
		log "$key: rotated (new random secret set)"
		continue
	fi
	if [ "$present" = no ]; then
		set_secret "$key"
		log "$key: generated (new random secret set)"
		continue
	fi
	if [ "$secret" != true ]; then
		log "$key: stored in plain text; run again with --rotate ${key#books:} to replace it with a secret"
		failed=1
		continue
	fi
	value="$(pulumi config get "$key" --stack "$stack" --cwd "$cwd")" || die "pulumi config get $key failed"
	why="$(problem "$key" "$value")"
	unset value
	if [ -n "$why" ]; then
		log "$key: the existing secret $why; run again with --rotate ${key#books:} to replace it"
		failed=1
		continue
	fi
	log "$key: kept (already a valid secret)"
done

exit "$failed"
