# bench/cluster.sh — the part bench/run.sh and bench/restore.sh share: checks the tools, starts (or reuses) the
# throwaway PostgreSQL cluster, loads the data set and builds the CLI. Sourced, not run, after the script has read its
# flags. It expects:
#   ME            the script's name for messages (bench/run.sh)
#   LOG_TAG       the tag of its log lines ([bench 12:00:00] ...)
#   NEEDED_TOOLS  commands that must be on PATH
#   ROOT BENCH ROWS KEEP CLUSTER BUILD PGBIN DB   as the scripts set them from their flags
# and defines, for the rest of the script:
#   log as_pg helpers   functions
#   WORK PGDATA PORT PSQL CS DLL STARTED PGUSER_OS   the cluster's folder, server, psql command, connection string, CLI
# On exit it stops the server and removes WORK, unless --keep or --cluster.
#
# The cluster: initdb into a temporary folder, a free port on 127.0.0.1, trust auth; shared_buffers = 1GB,
# max_wal_size = 4GB, wal_level = minimal, max_wal_senders = 0, everything else at its initdb default (fsync and
# synchronous_commit stay on). The data set: bench/schema.sql + bench/load.sql with rows=ROWS; a reused cluster is
# loaded again when ROWS or either SQL file differs from what it holds.

log() { printf '[%s %s] %s\n' "$LOG_TAG" "$(date +%T)" "$*" >&2; }

for tool in "${NEEDED_TOOLS[@]}"; do
    command -v "$tool" >/dev/null || { echo "$ME: $tool is not on PATH" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "$ME: GNU time is missing at /usr/bin/time (apt-get install time)" >&2; exit 1; }
[ -x "$PGBIN/initdb" ] || { echo "$ME: no initdb in $PGBIN (set PGBIN)" >&2; exit 1; }

# The server must not run as root: as root, run its commands as postgres.
if [ "$(id -u)" = 0 ]; then
    PGUSER_OS=postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    PGUSER_OS=$(id -un)
    as_pg() { "$@"; }
fi

helpers() { python3 "$BENCH/helpers.py" "$@"; }

# ---------------------------------------------------------------------------------------------------- the cluster
STARTED=0
if [ -n "$CLUSTER" ]; then
    WORK=$(cd "$CLUSTER" && pwd)
    [ -d "$WORK/pgdata" ] || { echo "$ME: $WORK has no pgdata (make one with --keep)" >&2; exit 2; }
    KEEP=1  # a reused cluster belongs to whoever made it
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/tenantbackup-bench.XXXXXX")
    chmod 755 "$WORK"
fi
PGDATA="$WORK/pgdata"

cleanup() {
    local status=$?
    if [ "$KEEP" = 1 ]; then
        if [ -n "${PORT:-}" ]; then
            log "kept: $WORK (server on 127.0.0.1:$PORT, connection \"Host=127.0.0.1;Port=$PORT;Username=postgres;Database=$DB\")"
            log "stop it with: $([ "$(id -u)" = 0 ] && echo "runuser -u postgres -- ")$PGBIN/pg_ctl -D $PGDATA stop -m fast; remove it with rm -rf $WORK"
        fi
    else
        if [ "$STARTED" = 1 ]; then
            as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -f "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA" "$WORK/socket"
    chown "$PGUSER_OS" "$PGDATA" "$WORK/socket"
    log "initdb $PGDATA"
    as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log"
    PORT=$(helpers free-port)
    cat >>"$PGDATA/postgresql.conf" <<EOF

# bench/cluster.sh
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$WORK/socket'
shared_buffers = 1GB
max_wal_size = 4GB
wal_level = minimal
max_wal_senders = 0
EOF
else
    PORT=$(sed -n "s/^port = \([0-9]*\)$/\1/p" "$PGDATA/postgresql.conf" | tail -1)
fi

if ! as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$PORT"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 start >/dev/null
    STARTED=1
fi

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
CS="Host=127.0.0.1;Port=$PORT;Username=postgres;Database=$DB"

# What the database holds: the row count and the SQL that made it, so a changed schema or load is loaded again.
LOADED="$ROWS $(cat "$BENCH/schema.sql" "$BENCH/load.sql" | sha256sum | cut -c1-16)"
if [ "$(cat "$WORK/loaded-rows" 2>/dev/null)" != "$LOADED" ]; then
    "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
    log "loading $ROWS rows for tenant 1 (and the other tenants)"
    load_start=$(date +%s)
    "${PSQL[@]}" -d "$DB" -v rows="$ROWS" -f "$BENCH/load.sql" >/dev/null
    echo "$LOADED" >"$WORK/loaded-rows"
    LOAD_SECONDS=$(( $(date +%s) - load_start ))
    log "loaded in $LOAD_SECONDS s; database $("${PSQL[@]}" -d "$DB" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))")"
fi

# ---------------------------------------------------------------------------------------------------- the tool
DLL="$ROOT/src/TenantBackup.Cli/bin/Release/net8.0/tenantbackup.dll"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ "$BUILD" = 1 ]; then
    log "dotnet build src/TenantBackup.Cli -c Release"
    dotnet build "$ROOT/src/TenantBackup.Cli" -c Release -nologo -v quiet >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }
fi
[ -f "$DLL" ] || { echo "$ME: $DLL is missing; build it or drop --no-build" >&2; exit 1; }
