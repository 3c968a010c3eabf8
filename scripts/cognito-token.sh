#!/usr/bin/env bash
# Creates (or reuses) a Cognito user in the stack's user pool, sets a permanent
# password, authenticates with USER_PASSWORD_AUTH and prints the ID token.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
	cat <<'EOF'
Usage: scripts/cognito-token.sh --stack STACK [--username EMAIL] [--cwd DIR]
       scripts/cognito-token.sh --user-pool-id ID --client-id ID --region REGION [--username EMAIL]

Prints a Cognito ID token (and nothing else) on stdout, for the API's
Authorization header:  curl -H "Authorization: $(scripts/cognito-token.sh --stack dev)" ...

Steps: admin-get-user / admin-create-user (no invitation e-mail; email_verified),
admin-set-user-password --permanent, initiate-auth USER_PASSWORD_AUTH.
Running it again reuses the user and sets a new password.

Options:
  --stack STACK         read userPoolId, userPoolClientId and region from the
                        stack's outputs (pulumi stack output --json)
  --user-pool-id ID     instead of --stack: the user pool id
  --client-id ID        instead of --stack: the app client id (no secret,
                        ALLOW_USER_PASSWORD_AUTH)
  --region REGION       instead of --stack: the pool's region
  --username EMAIL      the user (default: smoke-test@example.com, or COGNITO_USERNAME)
  --cwd DIR             directory holding Pulumi.yaml (default: the repository root)
  -h, --help            this text

Environment:
  COGNITO_PASSWORD      the password to set (default: a new random one that meets
                        a strong policy: 32 characters, upper, lower, digit, symbol)

Needs aws (CLI v1 or v2, credentials allowed cognito-idp:AdminGetUser,
AdminCreateUser, AdminSetUserPassword), jq, and pulumi with --stack.
The password never appears on a command line: it goes to the aws CLI in a
--cli-input-json file readable only by this user, deleted on exit.
EOF
}

# shellcheck source=lib.sh
. "$here/lib.sh"

stack=""
pool_id=""
client_id=""
region=""
username="${COGNITO_USERNAME:-smoke-test@example.com}"
cwd="$(cd "$here/.." && pwd)"

while [ "$#" -gt 0 ]; do
	case "$1" in
	--stack)
		need_value "$1" "$#" "${2-}"
		stack="$2"
		shift 2
		;;
	--user-pool-id)
		need_value "$1" "$#" "${2-}"
		pool_id="$2"
		shift 2
		;;
	--client-id)
		need_value "$1" "$#" "${2-}"
		client_id="$2"
		shift 2
		;;
	--region)
		need_value "$1" "$#" "${2-}"
		region="$2"
		shift 2
		;;
	--username)
		need_value "$1" "$#" "${2-}"
		username="$2"
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

if [ -n "$stack" ]; then
	if [ -n "$pool_id$client_id$region" ]; then
		usage_error "use either --stack or --user-pool-id/--client-id/--region, not both"
	fi
	need_tools pulumi jq aws
	outputs="$(stack_outputs "$stack" "$cwd")"
	pool_id="$(output_field "$outputs" userPoolId)"
	client_id="$(output_field "$outputs" userPoolClientId)"
	region="$(output_field "$outputs" region)"
else
	if [ -z "$pool_id" ] || [ -z "$client_id" ] || [ -z "$region" ]; then
		usage_error "give --stack, or all of --user-pool-id, --client-id and --region"
	fi
	need_tools jq aws
fi

password="${COGNITO_PASSWORD:-}"
if [ -z "$password" ]; then
	# 28 hex characters plus fixed classes: meets any Cognito password policy
	# up to 32 characters with every character class required.
	password="Aa1!$(random_hex 14)"
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
chmod 700 "$workdir"

# cognito NAME.json OPERATION: runs `aws cognito-idp OPERATION` with the JSON
# input in $workdir/NAME.json; prints the response JSON.
cognito() {
	aws cognito-idp "$2" --region "$region" --output json --cli-input-json "file://$workdir/$1"
}

jq -n --arg pool "$pool_id" --arg user "$username" \
	'{UserPoolId: $pool, Username: $user}' >"$workdir/get.json"
if cognito get.json admin-get-user >/dev/null 2>"$workdir/get.err"; then
	log "user $username exists in $pool_id; setting a new password"
elif grep -q UserNotFoundException "$workdir/get.err"; then
	jq -n --arg pool "$pool_id" --arg user "$username" '{
		UserPoolId: $pool, Username: $user, MessageAction: "SUPPRESS",
		UserAttributes: [{Name: "email", Value: $user}, {Name: "email_verified", Value: "true"}]
	}' >"$workdir/create.json"
	cognito create.json admin-create-user >/dev/null || die "admin-create-user $username failed"
	log "created user $username in $pool_id"
else
	cat "$workdir/get.err" >&2
	die "admin-get-user $username failed"
fi

jq -n --arg pool "$pool_id" --arg user "$username" --arg pw "$password" \
	'{UserPoolId: $pool, Username: $user, Password: $pw, Permanent: true}' >"$workdir/password.json"
cognito password.json admin-set-user-password >/dev/null || die "admin-set-user-password $username failed"

jq -n --arg client "$client_id" --arg user "$username" --arg pw "$password" \
	'{ClientId: $client, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: {USERNAME: $user, PASSWORD: $pw}}' >"$workdir/auth.json"
response="$(cognito auth.json initiate-auth)" || die "initiate-auth (USER_PASSWORD_AUTH) failed; the client must allow ALLOW_USER_PASSWORD_AUTH and have no secret"

token="$(jq -r '.AuthenticationResult.IdToken // empty' <<<"$response")"
if [ -z "$token" ]; then
	challenge="$(jq -r '.ChallengeName // "none"' <<<"$response")"
	die "initiate-auth returned no ID token (challenge: $challenge)"
fi
log "authenticated $username"
printf '%s\n' "$token"
