#!/bin/sh
# Stands in for the postgres:15 image's entrypoint (which the tests cannot pull): the
# same variables (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA), Debian's
# PostgreSQL 15 underneath.
set -e
PGDATA=${PGDATA:-/var/lib/postgresql/data}
BIN=/usr/lib/postgresql/15/bin
user=${POSTGRES_USER:-postgres}
mkdir -p "$PGDATA" /var/run/postgresql
chown -R postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	pw=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"
	chown postgres "$pw"
	runuser -u postgres -- "$BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pw" -A scram-sha-256 >/dev/null
	rm -f "$pw"
	echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
	echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
	{
		[ "$user" = postgres ] || echo "CREATE ROLE \"$user\" SUPERUSER LOGIN PASSWORD '$POSTGRES_PASSWORD'"
		[ -z "$POSTGRES_DB" ] || [ "$POSTGRES_DB" = postgres ] || echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$user\""
	} | runuser -u postgres -- "$BIN/postgres" --single -D "$PGDATA" postgres >/dev/null
fi
exec runuser -u postgres -- "$BIN/postgres" -D "$PGDATA"
