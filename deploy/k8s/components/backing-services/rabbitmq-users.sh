#!/bin/sh
# Writes the broker's users and permissions as a definitions file ($1), from the
# environment, for a node that imports definitions at boot (it creates no default user).
# One user per service with only what its topology needs (docs/security.md):
#   admin      management UI, the doctor's checks: everything
#   gateway    declares the topology, publishes events and the summary RPC, reads replies
#   analytics  declares the topology, consumes its queue and the RPC's, answers the RPC
#   telegraf   consumes telegraf.task-events (declared by the others), nothing else
# Passwords are refused unless URL-safe: they also go into the services' amqp:// URLs,
# and that set can never break the JSON below.
set -eu
out="$1"
for name in RABBITMQ_ADMIN_USERNAME RABBITMQ_ADMIN_PASSWORD RABBITMQ_GATEWAY_PASSWORD \
  RABBITMQ_ANALYTICS_PASSWORD RABBITMQ_TELEGRAF_PASSWORD; do
  eval "value=\${$name:-}"
  case "$value" in
    '' | *[!A-Za-z0-9_-]*)
      echo "$name must be set to letters, digits, - and _ only" >&2
      exit 1
      ;;
  esac
done
exchanges='taskit\\.events|taskit\\.events\\.dlx'
queues='analytics\\.task-events|analytics\\.task-events\\.dlq|telegraf\\.task-events|telegraf\\.task-events\\.dlq|analytics\\.rpc'
# Declaring a queue with a dead-letter exchange takes read on the queue and write on that
# exchange (the broker dead-letters on the declarer's behalf): both services declare the
# topology, so both hold them.
dead_lettered='analytics\\.task-events|telegraf\\.task-events'
user() { printf '{"name":"%s","password":"%s","tags":[%s]}' "$1" "$2" "$3"; }
grant() {
  printf '{"user":"%s","vhost":"/","configure":"%s","write":"%s","read":"%s"}' "$1" "$2" "$3" "$4"
}
{
  printf '{"vhosts":[{"name":"/"}],"users":['
  user "$RABBITMQ_ADMIN_USERNAME" "$RABBITMQ_ADMIN_PASSWORD" '"administrator"'
  printf ','
  user gateway "$RABBITMQ_GATEWAY_PASSWORD" ''
  printf ','
  user analytics "$RABBITMQ_ANALYTICS_PASSWORD" ''
  printf ','
  user telegraf "$RABBITMQ_TELEGRAF_PASSWORD" ''
  printf '],"permissions":['
  grant "$RABBITMQ_ADMIN_USERNAME" '.*' '.*' '.*'
  printf ','
  grant gateway "^($exchanges|$queues)\$" "^($exchanges|$queues|amq\\\\.default)\$" \
    "^($exchanges|$dead_lettered|amq\\\\.rabbitmq\\\\.reply-to)\$"
  printf ','
  grant analytics "^($exchanges|$queues)\$" "^(taskit\\\\.events\\\\.dlx|$queues|amq\\\\.default)\$" \
    "^($exchanges|$dead_lettered|analytics\\\\.rpc)\$"
  printf ','
  grant telegraf '^$' '^$' '^telegraf\\.task-events$'
  printf ']}\n'
} > "$out"
