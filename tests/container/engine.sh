#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock for the
# container rehearsal: reuses a running one, else starts Debian's dockerd
# (as root, in the background, logging to $DOCKERD_LOG). Never fails: when no
# engine can be had it says why, and the rehearsal itself then fails under
# CI=true or skips loudly elsewhere.
set -euo pipefail

log="${DOCKERD_LOG:-/var/log/books-dockerd.log}"
client=/usr/bin/docker
[ -x "$client" ] || client="$(command -v docker || true)"

answers() {
	[ -n "$client" ] && "$client" version >/dev/null 2>&1
}

if answers; then
	echo "docker engine: running"
	exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
	echo "docker engine: dockerd is not installed (apt-get install docker.io debootstrap)"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "docker engine: not running, and starting dockerd needs root"
	exit 0
fi
echo "docker engine: starting dockerd (log $log)"
setsid nohup dockerd >>"$log" 2>&1 </dev/null &
for _ in $(seq 1 60); do
	if answers; then
		echo "docker engine: running"
		exit 0
	fi
	sleep 1
done
echo "docker engine: dockerd did not answer within 60 s; last lines of $log:"
tail -n 20 "$log" || true
