#!/bin/sh
# docker compose's one-shot influxdb-tokens service: one token per client of InfluxDB 2,
# scoped to the taskit bucket (the worker reads and writes: it answers the summary;
# Telegraf writes; Grafana reads), each written to $CLIENTS_DIR/<client>/token, a
# volume only that client mounts. The influx CLI authenticates with the operator token
# (INFLUX_HOST, INFLUX_TOKEN). A client that has its token keeps it on later starts.
set -eu
bucket=$(influx bucket list --org taskit --name taskit --json |
  sed -n 's/^ *"id": *"\([^"]*\)".*/\1/p' | head -n 1)
test -n "$bucket"
token() {
  client="$1"
  shift
  file="$CLIENTS_DIR/$client/token"
  if [ -s "$file" ]; then return 0; fi
  influx auth create --org taskit --description "taskit $client" "$@" --json |
    sed -n 's/^ *"token": *"\([^"]*\)".*/\1/p' > "$file.partial"
  test -s "$file.partial"
  chmod 0444 "$file.partial"
  mv "$file.partial" "$file"
}
token analytics --read-bucket "$bucket" --write-bucket "$bucket"
token telegraf --write-bucket "$bucket"
token grafana --read-bucket "$bucket"
