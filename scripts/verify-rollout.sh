#!/usr/bin/env bash
# Fails when ECS did not roll out the task definition the stack exported.
# The deployment circuit breaker's rollback otherwise looks like success:
# `pulumi up` finishes, and the service runs the previous revision.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
	cat <<'EOF'
Usage: scripts/verify-rollout.sh --stack STACK [--timeout SECONDS] [--interval SECONDS]
       scripts/verify-rollout.sh --cluster NAME --service NAME --task-definition ARN --region REGION [...]

Passes when the service's PRIMARY deployment has rolloutState COMPLETED, runs
exactly the expected task definition, and runs its desired count. Fails at
once when the primary deployment runs another task definition (a circuit
breaker rollback, or someone else's deployment) or a deployment FAILED; waits
while the primary deployment is IN_PROGRESS, up to --timeout.

Options:
  --stack STACK             read ecsClusterName, ecsServiceName, taskDefinitionArn
                            and region from the stack's outputs
  --cluster NAME            instead of --stack: the ECS cluster
  --service NAME            instead of --stack: the ECS service
  --task-definition ARN     instead of --stack: the expected task definition ARN
  --region REGION           instead of --stack: the AWS region
  --timeout SECONDS         how long to wait for IN_PROGRESS (default 900)
  --interval SECONDS        seconds between polls (default 15)
  --cwd DIR                 directory holding Pulumi.yaml (default: the repository root)
  -h, --help                this text

Needs aws (ecs:DescribeServices) and jq, and pulumi with --stack.
Exit status: 0 rolled out, 1 rolled back / failed / timed out, 2 usage.
EOF
}

# shellcheck source=lib.sh
. "$here/lib.sh"

stack=""
cluster=""
service=""
expected=""
region=""
timeout=900
interval=15
cwd="$(cd "$here/.." && pwd)"

while [ "$#" -gt 0 ]; do
	case "$1" in
	--stack)
		need_value "$1" "$#" "${2-}"
		stack="$2"
		shift 2
		;;
	--cluster)
		need_value "$1" "$#" "${2-}"
		cluster="$2"
		shift 2
		;;
	--service)
		need_value "$1" "$#" "${2-}"
		service="$2"
		shift 2
		;;
	--task-definition)
		need_value "$1" "$#" "${2-}"
		expected="$2"
		shift 2
		;;
	--region)
		need_value "$1" "$#" "${2-}"
		region="$2"
		shift 2
		;;
	--timeout)
		need_value "$1" "$#" "${2-}"
		timeout="$2"
		shift 2
		;;
	--interval)
		need_value "$1" "$#" "${2-}"
		interval="$2"
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

[[ "$timeout" =~ ^[0-9]+$ ]] || usage_error "--timeout needs a number of seconds, got '$timeout'"
[[ "$interval" =~ ^[0-9]+$ ]] || usage_error "--interval needs a number of seconds, got '$interval'"

if [ -n "$stack" ]; then
	if [ -n "$cluster$service$expected$region" ]; then
		usage_error "use either --stack or --cluster/--service/--task-definition/--region, not both"
	fi
	need_tools pulumi jq aws
	outputs="$(stack_outputs "$stack" "$cwd")"
	cluster="$(output_field "$outputs" ecsClusterName)"
	service="$(output_field "$outputs" ecsServiceName)"
	expected="$(output_field "$outputs" taskDefinitionArn)"
	region="$(output_field "$outputs" region)"
else
	if [ -z "$cluster" ] || [ -z "$service" ] || [ -z "$expected" ] || [ -z "$region" ]; then
		usage_error "give --stack, or all of --cluster, --service, --task-definition and --region"
	fi
	need_tools jq aws
fi
[[ "$expected" =~ ^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task-definition/.+:[0-9]+$ ]] ||
	die "the expected task definition must be a full ARN with a revision, got '$expected'"

# show_events prints the service's latest events (newest first), for the log.
show_events() {
	jq -r '.services[0].events // [] | .[:8][] | "      \(.createdAt)  \(.message)"' <<<"$1" >&2 || true
}

# One more second than asked: SECONDS counts whole seconds and ticks at any
# point of one, so SECONDS + N alone can come round after N-1 s and a bit.
deadline=$((SECONDS + timeout + (timeout > 0)))
while :; do
	if ! json="$(aws ecs describe-services --cluster "$cluster" --services "$service" --region "$region" --output json)"; then
		die "aws ecs describe-services --cluster $cluster --services $service --region $region failed"
	fi
	failure="$(jq -r '(.failures // [])[0] | select(. != null) | "\(.arn // "?"): \(.reason // "?")"' <<<"$json")" ||
		die "describe-services returned something that is not JSON"
	[ -z "$failure" ] || die "service $service in cluster $cluster: $failure"
	[ "$(jq '.services | length' <<<"$json")" = 1 ] || die "describe-services returned no service $service"

	svc_status="$(jq -r '.services[0].status' <<<"$json")"
	[ "$svc_status" = ACTIVE ] || die "service $service is $svc_status, not ACTIVE"

	primary="$(jq -c '[.services[0].deployments[]? | select(.status == "PRIMARY")] | .[0] // empty' <<<"$json")"
	[ -n "$primary" ] || die "service $service has no PRIMARY deployment"
	p_id="$(jq -r '.id' <<<"$primary")"
	p_task="$(jq -r '.taskDefinition' <<<"$primary")"
	p_state="$(jq -r '.rolloutState // "UNKNOWN"' <<<"$primary")"
	p_reason="$(jq -r '.rolloutStateReason // ""' <<<"$primary")"
	p_running="$(jq -r '.runningCount' <<<"$primary")"
	p_desired="$(jq -r '.desiredCount' <<<"$primary")"
	failed="$(jq -r '[.services[0].deployments[]? | select(.rolloutState == "FAILED") | "\(.id) (\(.taskDefinition)): \(.rolloutStateReason // "")"] | join("; ")' <<<"$json")"

	if [ "$p_task" != "$expected" ]; then
		log "ROLLED BACK: the primary deployment $p_id ($p_state) runs $p_task, not the stack's $expected"
		[ -z "$failed" ] || log "failed deployment(s): $failed"
		show_events "$json"
		exit 1
	fi
	if [ -n "$failed" ]; then
		# Only possible for the primary itself: the rollback has not started yet.
		log "FAILED: $failed"
		show_events "$json"
		exit 1
	fi
	case "$p_state" in
	COMPLETED)
		if [ "$p_running" != "$p_desired" ]; then
			log "rollout $p_id is COMPLETED but runs $p_running of $p_desired tasks"
		else
			log "ok: $service runs $expected ($p_running/$p_desired tasks), deployment $p_id COMPLETED"
			exit 0
		fi
		;;
	IN_PROGRESS)
		log "deployment $p_id IN_PROGRESS ($p_running/$p_desired running) ${p_reason:+- $p_reason}"
		;;
	*)
		log "UNEXPECTED rollout state '$p_state' of deployment $p_id ${p_reason:+- $p_reason}"
		show_events "$json"
		exit 1
		;;
	esac
	if [ "$SECONDS" -ge "$deadline" ]; then
		log "TIMED OUT after ${timeout}s waiting for deployment $p_id to complete"
		show_events "$json"
		exit 1
	fi
	sleep "$interval"
done
