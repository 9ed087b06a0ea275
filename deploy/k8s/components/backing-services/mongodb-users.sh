#!/bin/sh
# MongoDB's first start (docker-entrypoint-initdb.d): the gateway's own user, readWrite on
# the taskit database and nothing else; root stays with the operator. The password comes
# from the environment into mongosh as process.env, never into the script's text.
set -eu
mongosh --quiet --username "$MONGO_INITDB_ROOT_USERNAME" \
  --password "$MONGO_INITDB_ROOT_PASSWORD" --authenticationDatabase admin taskit --eval '
  db.createUser({
    user: "gateway",
    pwd: process.env.MONGO_GATEWAY_PASSWORD,
    roles: [{ role: "readWrite", db: "taskit" }],
  })'
