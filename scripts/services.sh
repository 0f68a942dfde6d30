#!/usr/bin/env bash
# Starts (up) or stops (down) the services otelaudit's tests need, on a
# fresh Debian machine as on a developer's:
#   - PostgreSQL on 127.0.0.1:5432, reachable as
#     postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
#     (installed with apt-get when absent; 127.0.0.1 trusted for postgres)
#   - the MongoDB-wire test server (FerretDB embedded, tools/ferretdb) on
#     127.0.0.1:27017, built once and cached;
#   - headless Chromium for the viewer's browser test (Debian's chromium
#     package, installed with apt-get when absent).
# Set AUDIT_TEST_POSTGRES_DSN / AUDIT_TEST_MONGO_URI to use servers of your
# own instead; the script then leaves that service alone.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
state="$root/.services"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/otelaudit"
mongo_addr="127.0.0.1:27017"
mkdir -p "$state" "$cache"

log() { printf 'services: %s\n' "$*" >&2; }

port_open() { # host port
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_port() { # host port what seconds
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		port_open "$1" "$2" && return 0
		sleep 0.1
	done
	log "$3 did not open $1:$2 within $4 s"
	return 1
}

as_postgres() {
	if [ "$(id -u)" = 0 ]; then
		su postgres -s /bin/sh -c "$*"
	else
		sh -c "$*"
	fi
}

postgres_up() {
	if [ -n "${AUDIT_TEST_POSTGRES_DSN:-}" ]; then
		log "PostgreSQL: using AUDIT_TEST_POSTGRES_DSN"
		return
	fi
	if ! command -v pg_lsclusters >/dev/null; then
		log "PostgreSQL: installing with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq postgresql >/dev/null
	fi
	local ver
	ver="$(ls /etc/postgresql | sort -V | tail -1)"
	if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" && $4 == "online" { found = 1 } END { exit !found }'; then
		log "PostgreSQL $ver: starting"
		pg_ctlcluster --skip-systemctl-redirect "$ver" main start
	fi
	wait_port 127.0.0.1 5432 PostgreSQL 30
	# The tests connect over TCP as postgres without a password.
	if ! psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -tAc 'select 1' >/dev/null 2>&1; then
		local hba="/etc/postgresql/$ver/main/pg_hba.conf"
		log "PostgreSQL: trusting postgres on 127.0.0.1 and ::1 in $hba"
		sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
		as_postgres "psql -qc 'select pg_reload_conf()'" >/dev/null
		psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -tAc 'select 1' >/dev/null
	fi
	log "PostgreSQL: ready"
}

ferretdb_bin() {
	# Cache key: the server's source and module files.
	local key
	key="$(cat "$root/tools/ferretdb/go.mod" "$root/tools/ferretdb/go.sum" "$root/tools/ferretdb/main.go" | sha256sum | cut -c1-16)"
	local bin="$cache/ferretdb-test-$key"
	if [ ! -x "$bin" ]; then
		log "MongoDB-wire server: building tools/ferretdb (about a minute on a cold cache)"
		(cd "$root/tools/ferretdb" && go build -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
	fi
	echo "$bin"
}

mongo_up() {
	if [ -n "${AUDIT_TEST_MONGO_URI:-}" ]; then
		log "MongoDB: using AUDIT_TEST_MONGO_URI"
		return
	fi
	if [ -f "$state/ferretdb.pid" ] && kill -0 "$(cat "$state/ferretdb.pid")" 2>/dev/null; then
		log "MongoDB-wire server: already running (pid $(cat "$state/ferretdb.pid"))"
		return
	fi
	if port_open 127.0.0.1 27017; then
		log "MongoDB-wire server: something already listens on $mongo_addr; using it"
		return
	fi
	local bin data
	bin="$(ferretdb_bin)"
	data="$state/ferretdb-data"
	rm -rf "$data"
	mkdir -p "$data"
	nohup "$bin" -listen "$mongo_addr" -dir "$data" >"$state/ferretdb.log" 2>&1 &
	echo $! >"$state/ferretdb.pid"
	wait_port 127.0.0.1 27017 "MongoDB-wire server" 60 || { tail -20 "$state/ferretdb.log" >&2; exit 1; }
	log "MongoDB-wire server: ready on $mongo_addr (pid $(cat "$state/ferretdb.pid"), log $state/ferretdb.log)"
}

mongo_down() {
	if [ -f "$state/ferretdb.pid" ]; then
		kill "$(cat "$state/ferretdb.pid")" 2>/dev/null || true
		rm -f "$state/ferretdb.pid"
		log "MongoDB-wire server: stopped"
	fi
}

chromium_up() {
	if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
		return
	fi
	log "Chromium: installing with apt-get (for the viewer's browser test)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq chromium >/dev/null
	log "Chromium: ready"
}

case "${1:-}" in
up)
	postgres_up
	mongo_up
	chromium_up
	;;
down)
	mongo_down
	log "PostgreSQL is the machine's own service and is left running"
	;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac
