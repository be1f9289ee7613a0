#!/usr/bin/env bash
# Shows TenantBackup backing up one tenant, on a fresh clone, in one command:
#
#   ./demo.sh          build the CLI, start a throwaway PostgreSQL, create a demo database with 3 tenants,
#                      back up tenant 2, list the repository, list the archive, check its checksum, restore it after
#                      a mistake, clone it into tenant 9, check the repository (verify with a rolled-back test
#                      restore, sync after a lost file, a retention dry run), clean up
#   ./demo.sh --keep   the same, but leave the server running and the files in place to look around
#
# Needs: the .NET SDK (dotnet), the PostgreSQL server programs (initdb, pg_ctl, psql), zstd and tar.
# Nothing outside one temporary folder is touched; the server listens on 127.0.0.1 only, on a free port.
set -euo pipefail

keep=0
for argument in "$@"; do
    case "$argument" in
        --keep) keep=1 ;;
        -h | --help)
            sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "demo.sh: unknown argument '$argument' (use --keep or --help)" >&2
            exit 2
            ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")"
repo_root=$PWD

export DOTNET_CLI_TELEMETRY_OPTOUT="${DOTNET_CLI_TELEMETRY_OPTOUT:-1}"
export DOTNET_NOLOGO="${DOTNET_NOLOGO:-1}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() {
    printf 'demo.sh: %s\n' "$*" >&2
    exit 1
}

# --- prerequisites -------------------------------------------------------------------------------------------------

command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK (dotnet) is not on PATH; install .NET 8 or later: https://dot.net"
for tool in zstd tar sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not on PATH; run 'bash .ci/run' (installs it) or 'apt-get install $tool'"
done

# The server programs: $TENANTBACKUP_PG_BIN, else initdb on PATH, else the newest /usr/lib/postgresql/*/bin (Debian
# and Ubuntu keep them off PATH).
pg_bin="${TENANTBACKUP_PG_BIN:-}"
if [ -z "$pg_bin" ] && command -v initdb >/dev/null 2>&1; then
    pg_bin=$(dirname "$(readlink -f "$(command -v initdb)")")
fi
if [ -z "$pg_bin" ]; then
    pg_bin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    fail "PostgreSQL's initdb was not found; run 'bash .ci/run' (installs PostgreSQL) or 'apt-get install postgresql', or set TENANTBACKUP_PG_BIN"
fi
psql="$pg_bin/psql"
[ -x "$psql" ] || psql=$(command -v psql) || fail "psql was not found next to $pg_bin/initdb nor on PATH"

# PostgreSQL refuses to run as root: then the server runs as the postgres user.
run_as_server=()
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || fail "running as root needs a 'postgres' user to run the server as (apt-get install postgresql creates it)"
    if command -v runuser >/dev/null 2>&1; then
        run_as_server=(runuser -u postgres --)
    else
        fail "running as root needs runuser (util-linux) to start the server as the postgres user"
    fi
fi

# --- a temporary folder and its clean-up -----------------------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/tenantbackup-demo.XXXXXX")
chmod 755 "$work" # the postgres user must reach its cluster below it
cluster="$work/cluster"
socket_dir="$work/socket"
repository="$work/repository"
server_log="$work/postgresql.log"
mkdir -p "$cluster" "$socket_dir"
touch "$server_log"
if [ "${#run_as_server[@]}" -gt 0 ]; then
    chown postgres: "$cluster" "$socket_dir" "$server_log"
fi
server_started=0

cleanup() {
    local status=$?
    if [ "$keep" -eq 1 ] && [ "$status" -eq 0 ]; then
        return
    fi
    if [ "$server_started" -eq 1 ]; then
        (cd "$work" && "${run_as_server[@]}" "$pg_bin/pg_ctl" stop -D "$cluster" -m fast -w -t 30 >/dev/null 2>&1) ||
            (cd "$work" && "${run_as_server[@]}" "$pg_bin/pg_ctl" stop -D "$cluster" -m immediate -w -t 30 >/dev/null 2>&1) || true
    fi
    if [ "$status" -ne 0 ] && [ -s "$server_log" ]; then
        echo "demo.sh: failed (exit code $status); the last lines of the server log:" >&2
        tail -n 20 "$server_log" >&2 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build -----------------------------------------------------------------------------------------------------------

step "Building the tenantbackup CLI (Release)"
dotnet build src/TenantBackup.Cli/TenantBackup.Cli.csproj -c Release -v quiet -nologo -clp:NoSummary -p:TreatWarningsAsErrors=true
cli="$repo_root/src/TenantBackup.Cli/bin/Release/net8.0/tenantbackup.dll"
[ -f "$cli" ] || fail "the build did not produce $cli"
tenantbackup() { dotnet "$cli" "$@"; }

# --- a throwaway PostgreSQL server -----------------------------------------------------------------------------------

step "Starting a throwaway PostgreSQL ($("$pg_bin/postgres" --version)) in $cluster"
(cd "$work" && LC_ALL=C "${run_as_server[@]}" "$pg_bin/initdb" -D "$cluster" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >/dev/null)

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=""
for _ in 1 2 3 4 5; do
    candidate=$((20000 + RANDOM % 40000))
    port_in_use "$candidate" && continue
    if (cd "$work" && LC_ALL=C "${run_as_server[@]}" "$pg_bin/pg_ctl" start -w -t 60 -D "$cluster" -l "$server_log" \
        -o "-p $candidate -k '$socket_dir' -c listen_addresses=127.0.0.1 -c fsync=off -c timezone=UTC" >/dev/null); then
        port=$candidate
        server_started=1
        break
    fi
    grep -q "could not bind" "$server_log" || fail "pg_ctl could not start the server"
done
[ -n "$port" ] || fail "no free port found for the server"
echo "listening on 127.0.0.1:$port (trust authentication, user postgres)"

connection="Host=127.0.0.1;Port=$port;Username=postgres;Database=demo"
sql() { "$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }

# --- a small multi-tenant database -----------------------------------------------------------------------------------

step "Creating the demo database: 3 tenants sharing one schema"
sql -d postgres -c "CREATE DATABASE demo"
sql -d demo <<'SQL'
BEGIN;

-- Shared reference data: no tenant column, never backed up.
CREATE TABLE countries (
    code char(2) PRIMARY KEY,
    name text NOT NULL
);

-- The root table: every tenant_id points here.
CREATE TABLE tenants (
    id int PRIMARY KEY,
    name text NOT NULL,
    plan text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES tenants,
    name text NOT NULL,
    email text,
    country_code char(2) REFERENCES countries
);

CREATE TABLE projects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES tenants,
    customer_id bigint NOT NULL REFERENCES customers,
    name text NOT NULL,
    budget numeric(12,2)
);

CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES tenants,
    project_id bigint NOT NULL REFERENCES projects,
    number text NOT NULL,
    issued_on date NOT NULL,
    paid boolean NOT NULL DEFAULT false
);

-- No tenant column: its rows belong to a tenant through their invoice.
CREATE TABLE invoice_lines (
    invoice_id bigint NOT NULL REFERENCES invoices ON DELETE CASCADE,
    line_no int NOT NULL,
    description text NOT NULL,
    quantity numeric(10,2) NOT NULL,
    unit_price numeric(12,2) NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);

INSERT INTO countries VALUES
    ('DE', 'Germany'), ('FR', 'France'), ('GB', 'United Kingdom'), ('JP', 'Japan'), ('US', 'United States');

INSERT INTO tenants (id, name, plan) VALUES
    (1, 'Acme Corporation', 'enterprise'),
    (2, 'Globex Café', 'pro'),
    (3, 'Initech', 'free');

-- Tenants of different sizes, rows interleaved as in a database that grew over time.
INSERT INTO customers (tenant_id, name, email, country_code)
SELECT t, format('Customer %s-%s', t, i), format('customer%s@tenant%s.example', i, t),
       (ARRAY['DE', 'FR', 'GB', 'JP', 'US'])[1 + i % 5]
FROM generate_series(1, 300) AS i, (VALUES (1, 300), (2, 120), (3, 25)) AS s(t, n)
WHERE i <= n
ORDER BY i, t;

INSERT INTO projects (tenant_id, customer_id, name, budget)
SELECT c.tenant_id, c.id, format('Project %s of %s', p, c.name), 1000 + (c.id * 37 + p * 101) % 50000
FROM customers c, generate_series(1, 3) AS p
WHERE p <= 1 + c.id % 3
ORDER BY c.id, p;

INSERT INTO invoices (tenant_id, project_id, number, issued_on, paid)
SELECT p.tenant_id, p.id, format('INV-%s-%s-%s', p.tenant_id, p.id, m), date '2025-01-01' + (p.id * 7 + m * 30)::int % 365, m < 3
FROM projects p, generate_series(1, 4) AS m
ORDER BY p.id, m;

INSERT INTO invoice_lines (invoice_id, line_no, description, quantity, unit_price)
SELECT i.id, l, (ARRAY['Consulting', 'Licence', 'Support', 'Travel – Zürich'])[l], 1 + (i.id + l) % 8, 80 + (i.id * l) % 400
FROM invoices i, generate_series(1, 4) AS l
WHERE l <= 1 + i.id % 4
ORDER BY i.id, l;

COMMIT;
SQL

sql -d demo <<'SQL'
\echo
SELECT t.id AS tenant, t.name,
       (SELECT count(*) FROM customers c WHERE c.tenant_id = t.id) AS customers,
       (SELECT count(*) FROM projects p WHERE p.tenant_id = t.id) AS projects,
       (SELECT count(*) FROM invoices i WHERE i.tenant_id = t.id) AS invoices,
       (SELECT count(*) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE i.tenant_id = t.id) AS invoice_lines
FROM tenants t ORDER BY t.id;
SQL

# --- back up tenant 2 ------------------------------------------------------------------------------------------------

step "tenantbackup backup --tenant 2"
echo "+ tenantbackup backup --connection '$connection' --tenant 2 --repository $repository --message 'demo'"
tenantbackup backup --connection "$connection" --tenant 2 --repository "$repository" --message "demo"

step "tenantbackup list"
echo "+ tenantbackup list --repository $repository"
tenantbackup list --repository "$repository"

archive=$(find "$repository" -maxdepth 1 -name '*.tar.zst' -print | head -n 1)
[ -n "$archive" ] || fail "no archive was written to $repository"

step "The archive is a plain tar stream"
echo "+ tar --zstd -tvf $archive"
tar --zstd -tvf "$archive"

step "Its checksum"
echo "+ (cd $repository && sha256sum -c $(basename "$archive").sha256)"
(cd "$repository" && sha256sum -c "$(basename "$archive").sha256")

step "What the archive says about itself (tenantbackup.json)"
tar --zstd -xOf "$archive" tenantbackup.json
echo

# --- restore tenant 2, then clone it ---------------------------------------------------------------------------------

counts() {
    sql -d demo -c "SELECT t.id AS tenant, t.name,
        (SELECT count(*) FROM customers c WHERE c.tenant_id = t.id) AS customers,
        (SELECT count(*) FROM invoices i WHERE i.tenant_id = t.id) AS invoices,
        (SELECT count(*) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE i.tenant_id = t.id) AS invoice_lines
        FROM tenants t ORDER BY t.id"
}

step "A mistake: tenant 2 loses its invoices and a customer is renamed"
sql -d demo -c "DELETE FROM invoices WHERE tenant_id = 2" -c "UPDATE customers SET name = 'oops' WHERE tenant_id = 2"
counts

step "tenantbackup restore --dry-run: what a restore would do"
echo "+ tenantbackup restore $archive --connection '$connection' --repository $repository --dry-run"
tenantbackup restore "$archive" --connection "$connection" --repository "$repository" --dry-run

step "tenantbackup restore: tenant 2 as it was backed up, in one transaction (after a safety backup)"
echo "+ tenantbackup restore $archive --connection '$connection' --repository $repository --yes"
tenantbackup restore "$archive" --connection "$connection" --repository "$repository" --yes
counts

step "tenantbackup restore --target-tenant 9: a clone; keys tenant 2 uses get new values"
echo "+ tenantbackup restore $archive --connection '$connection' --repository $repository --target-tenant 9 --yes"
tenantbackup restore "$archive" --connection "$connection" --repository "$repository" --target-tenant 9 --yes
counts

step "tenantbackup list: the backup and the restore's safety backup"
tenantbackup list --repository "$repository"

# --- check the repository --------------------------------------------------------------------------------------------

step "tenantbackup verify --restore-test: every archive whole, and each would restore today (rolled back)"
echo "+ tenantbackup verify --repository $repository --restore-test --connection '$connection'"
tenantbackup verify --repository "$repository" --restore-test --connection "$connection"

step "A lost file: the safety backup's archive is deleted behind the index's back"
lost=$(find "$repository" -maxdepth 1 -name '*.tar.zst' ! -name "$(basename "$archive")" -print | head -n 1)
[ -n "$lost" ] || fail "no safety backup archive in $repository"
echo "+ rm $lost"
rm "$lost"
echo "+ tenantbackup sync --repository $repository    (exit code 3 while a discrepancy is left)"
tenantbackup sync --repository "$repository" || echo "(exit code $?)"
echo "+ tenantbackup sync --repository $repository --apply"
tenantbackup sync --repository "$repository" --apply || echo "(exit code $?)"
echo "+ tenantbackup sync --repository $repository"
tenantbackup sync --repository "$repository"

step "tenantbackup prune --dry-run: what a keep-last-1 policy would remove, and why"
echo "+ tenantbackup prune --repository $repository --tenant 2 --keep-last 1 --dry-run"
tenantbackup prune --repository "$repository" --tenant 2 --keep-last 1 --dry-run

# --- where things are ------------------------------------------------------------------------------------------------

step "Done"
echo "CLI:        dotnet $cli"
echo "repository: $repository (index: $repository/backups.json)"
echo "archive:    $archive"
if [ "$keep" -eq 1 ]; then
    echo "server:     127.0.0.1:$port, database demo, user postgres (trust): $psql -h 127.0.0.1 -p $port -U postgres demo"
    echo "            connection string: $connection"
    echo "kept (--keep). To stop the server and remove everything:"
    echo "  (cd /tmp && ${run_as_server[*]}${run_as_server[*]:+ }$pg_bin/pg_ctl stop -D $cluster -m fast) && rm -rf $work"
else
    echo "(the server and $work are removed now; run ./demo.sh --keep to look around)"
fi
