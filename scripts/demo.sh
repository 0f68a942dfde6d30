#!/usr/bin/env bash
# The two-minute tour: starts otelcol-audit with config/dual.yaml against the
# local PostgreSQL and MongoDB-wire server, runs examples/service, sends it a
# realistic request mix (secrets in headers, query strings, JSON and form
# bodies; 2xx, 4xx, 5xx; a payment forwarded to a processor, an audited
# outbound call), prints what was stored: masked and sampled, and verifies
# the signed integrity checkpoints of its records in both stores.
# Run it with `make demo` (which starts the services and builds the collector).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="$root/.services/demo"
mkdir -p "$work"

export AUDIT_POSTGRES_DSN="${AUDIT_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
export AUDIT_MONGO_URI="${AUDIT_MONGO_URI:-mongodb://127.0.0.1:27017/}"
export AUDIT_POSTGRES_TABLE=demo_audit_logs
export AUDIT_MONGO_DATABASE=demo_audit_logs
export AUDIT_QUEUE_DIR="$work/queue"
export AUDIT_OTLP_HTTP=127.0.0.1:4318
export AUDIT_OTLP_GRPC=127.0.0.1:4317
export AUDIT_HEALTH=127.0.0.1:13133

go build -o "$work/auditctl" ./cmd/auditctl
go build -o "$work/service" ./examples/service

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
export AUDIT_SIGNING_KEY_FILE="$work/audit.key"
[ -f "$AUDIT_SIGNING_KEY_FILE" ] || "$work/auditctl" keygen --key "$AUDIT_SIGNING_KEY_FILE" >/dev/null

echo "== starting otelcol-audit (config/dual.yaml + config/integrity.yaml); log: $work/collector.log"
./_build/otelcol-audit --config config/dual.yaml --config config/integrity.yaml >"$work/collector.log" 2>&1 &
collector=$!
trap 'kill $collector 2>/dev/null || true' EXIT
up() { (exec 3<>"/dev/tcp/${AUDIT_HEALTH%:*}/${AUDIT_HEALTH#*:}") 2>/dev/null; }
for _ in $(seq 1 150); do
	up && break
	kill -0 $collector 2>/dev/null || break
	sleep 0.2
done
up || { echo "otelcol-audit did not start:"; tail -30 "$work/collector.log"; exit 1; }

echo "== examples/service sends its traffic mix (audit policy: examples/service/policy.yaml)"
OTEL_EXPORTER_OTLP_ENDPOINT="http://$AUDIT_OTLP_HTTP" OTEL_SERVICE_NAME=demo-service \
	"$work/service" -traffic -addr 127.0.0.1:0 -policy examples/service/policy.yaml

echo "== waiting for the records to reach both stores"
for _ in $(seq 1 100); do
	pg=$("$work/auditctl" query --table "$AUDIT_POSTGRES_TABLE" --since 10m --output jsonl 2>/dev/null | wc -l || true)
	mg=$("$work/auditctl" query --backend mongo --database "$AUDIT_MONGO_DATABASE" --since 10m --output jsonl 2>/dev/null | wc -l || true)
	if [ "${pg:-0}" -gt 0 ] && [ "$pg" = "$mg" ]; then sleep 1; break; fi
	sleep 0.3
done

echo
echo "== PostgreSQL (auditctl query --since 10m)"
"$work/auditctl" query --table "$AUDIT_POSTGRES_TABLE" --since 10m
echo
echo "== MongoDB (auditctl query --backend mongo --since 10m)"
"$work/auditctl" query --backend mongo --database "$AUDIT_MONGO_DATABASE" --since 10m
echo
id=$("$work/auditctl" query --table "$AUDIT_POSTGRES_TABLE" --since 10m --method POST --path-prefix /api/orders --status 201 --output jsonl | head -1 | sed 's/.*"id":"\([^"]*\)".*/\1/')
if [ -n "$id" ]; then
	echo "== one record in full: secrets masked at the source and again in the collector"
	"$work/auditctl" show "$id" --table "$AUDIT_POSTGRES_TABLE"
fi
echo
cid=$("$work/auditctl" query --table "$AUDIT_POSTGRES_TABLE" --since 10m --event client --output jsonl | head -1 | sed 's/.*"id":"\([^"]*\)".*/\1/')
if [ -n "$cid" ]; then
	echo "== the outbound call to the payment processor (auditctl query --event client), in full"
	"$work/auditctl" query --table "$AUDIT_POSTGRES_TABLE" --since 10m --event client
	"$work/auditctl" show "$cid" --table "$AUDIT_POSTGRES_TABLE"
fi
echo
echo "== integrity: every record of this run is covered by a signed checkpoint (auditctl verify)"
# Stopped, the collector has written every checkpoint (MongoDB's follow their records).
kill -TERM $collector
wait $collector || true
"$work/auditctl" verify --key "$AUDIT_SIGNING_KEY_FILE.pub" --table "$AUDIT_POSTGRES_TABLE" --since "$started"
"$work/auditctl" verify --key "$AUDIT_SIGNING_KEY_FILE.pub" --backend mongo --database "$AUDIT_MONGO_DATABASE" --since "$started"
echo
echo "GET 2xx requests are sampled at 50% (see config/dual.yaml); writes and errors are all kept."
echo "Records stay in $AUDIT_POSTGRES_TABLE and database $AUDIT_MONGO_DATABASE; re-run to add more."

# The viewer over the demo table, left running after the tour, with one
# demo account whose password is made afresh each run.
viewer_addr="${AUDIT_VIEWER_ADDR:-127.0.0.1:8080}"
if [ -f "$work/viewer.pid" ]; then
	kill "$(cat "$work/viewer.pid")" 2>/dev/null || true
	rm -f "$work/viewer.pid"
fi
password="demo-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$password" | "$work/auditctl" passwd demo >"$work/viewer-users"
nohup "$work/auditctl" serve --table "$AUDIT_POSTGRES_TABLE" --users "$work/viewer-users" --addr "$viewer_addr" \
	>"$work/viewer.log" 2>&1 &
echo $! >"$work/viewer.pid"
for _ in $(seq 1 50); do
	grep -q "viewer on" "$work/viewer.log" && break
	kill -0 "$(cat "$work/viewer.pid")" 2>/dev/null || break
	sleep 0.2
done
if grep -q "viewer on" "$work/viewer.log"; then
	echo
	echo "== Viewer (auditctl serve, still running; stop it with: kill $(cat "$work/viewer.pid"))"
	echo "   URL:   http://$viewer_addr/"
	echo "   login: demo / $password"
else
	echo "auditctl serve did not start (set AUDIT_VIEWER_ADDR if $viewer_addr is taken):"
	tail -5 "$work/viewer.log"
fi
