#!/usr/bin/env bash
# bench/run.sh — times `tenantbackup backup` against psql + COPY + zstd (and pg_dump, for context) in one run.
#
# What it does, all on this machine:
#   1. builds the CLI (Release) unless --no-build;
#   2. starts a throwaway PostgreSQL cluster (bench/cluster.sh, shared with bench/restore.sh: initdb into a temporary
#      folder, a free port on 127.0.0.1, trust auth; shared_buffers = 1GB, max_wal_size = 4GB, wal_level = minimal,
#      max_wal_senders = 0, everything else at its initdb default — fsync and synchronous_commit stay on);
#   3. loads bench/schema.sql + bench/load.sql: a multi-tenant schema (tenants; customers, orders, events with jsonb and
#      text; order_items without a tenant column) with tenant 1 of --rows rows, tenant 2 ten times smaller, four more
#      tenants as big as tenant 1 together, twenty tiny ones, all interleaved; indexes on tenant and FK columns;
#      VACUUM (FREEZE, ANALYZE);
#   4. one warm-up repetition of every case, then --reps measured repetitions, the cases rotated each time so none
#      always runs first or right after another; each run under /usr/bin/time -v (wall time, max RSS, CPU), with the
#      1-minute load average noted before it:
#        tool           tenantbackup backup --tenant 1 (zstd, the default)
#        baseline       psql running the tool's own COPY queries (from the archive's schema.json) with \copy to stdout,
#                       in one REPEATABLE READ READ ONLY transaction with the tenant setting set, | zstd -3 -T0 > file
#        tool-small     tenantbackup backup --tenant 2 (10x smaller): peak RSS must not grow with the tenant
#        baseline-small the baseline for tenant 2
#        tool-encrypted tenantbackup backup --tenant 1 --key-file KEY: the cost of encryption at rest (AES-256-GCM)
#        tool-tiny      diagnosis: tenantbackup backup --tenant 7 (ROWS/2000 rows): the tool's fixed cost per run
#        baseline-tiny  diagnosis: the baseline for tenant 7
#        tool-none      diagnosis: --compression none
#        psql-file      diagnosis: the baseline without zstd, > file
#        psql-null      diagnosis: the baseline without zstd, > /dev/null (what the server and libpq cost alone)
#        tool-inline    diagnosis: the tool with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 (socket reads continue on
#                       the epoll thread instead of hopping to the thread pool)
#        tool-nospin    diagnosis: the tool with DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 (idle thread-pool workers
#                       sleep at once instead of spinning with sched_yield)
#        pg_dump-Fc     context: pg_dump -Fc of the same tables — whole tables, every tenant: pg_dump cannot filter rows
#        pg_dump-Fd-j2  context: pg_dump -Fd -j 2 -Z 1 of the same tables
#   5. checks correctness: every table's data chunks in the tool's archive, concatenated in order, must equal byte for
#      byte psql's \copy output of that table's query; the timed baseline's stream must equal all chunks concatenated;
#   6. prints a markdown report and writes it to docs/benchmarks.md (with bench/findings.md appended when it exists:
#      the hand analysis of where the time goes, dated, which a new run does not redo); the restore section that
#      bench/restore.sh writes into the same file stays, at the end.
#
# Usage: bench/run.sh [--rows N] [--reps N] [--keep] [--cluster DIR] [--output FILE] [--no-build] [--no-diag]
#                     [--no-context] [--findings FILE]
#   --rows N        rows of tenant 1 over all its tables (default 2000000)
#   --reps N        measured repetitions (default 5)
#   --keep          leave the cluster running and its folder in place at exit (prints how to reach and stop it)
#   --cluster DIR   reuse a folder left by --keep (loads again only when --rows differs)
#   --output FILE   the report (default docs/benchmarks.md)
#   --no-build      use the CLI as already built
#   --no-diag       skip the diagnosis cases (tool-tiny, baseline-tiny, tool-none, psql-file, psql-null, tool-inline,
#                   tool-nospin)
#   --no-context    skip the pg_dump cases
#   --findings FILE markdown appended to the report (default bench/findings.md: the hand analysis; /dev/null for none)
#
# Needs: PostgreSQL 15 server binaries (PGBIN, default /usr/lib/postgresql/15/bin), psql, pg_dump, zstd, tar,
# python3, GNU time at /usr/bin/time, dotnet. Run as root (the server then runs as the postgres user) or as a user
# who may run initdb. Disk: about 1 GB in the temporary folder per million rows (database, dumps, outputs).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
ROWS=2000000
REPS=5
KEEP=0
CLUSTER=""
OUTPUT="$ROOT/docs/benchmarks.md"
BUILD=1
DIAG=1
CONTEXT=1
FINDINGS="$BENCH/findings.md"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DB=tenantbench
INVOCATION="bench/run.sh $*"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --cluster) CLUSTER=$2; shift 2 ;;
        --output) OUTPUT=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --no-diag) DIAG=0; shift ;;
        --no-context) CONTEXT=0; shift ;;
        --findings) FINDINGS=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "bench/run.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
    esac
done
[[ "$ROWS" =~ ^[0-9]+$ ]] && [ "$ROWS" -ge 2000 ] || { echo "bench/run.sh: --rows must be a whole number of at least 2000" >&2; exit 2; }
[[ "$REPS" =~ ^[0-9]+$ ]] && [ "$REPS" -ge 1 ] || { echo "bench/run.sh: --reps must be at least 1" >&2; exit 2; }

ME=bench/run.sh
LOG_TAG=bench
NEEDED_TOOLS=(psql pg_dump zstd tar python3 dotnet)
# The cluster, the data set and the CLI: shared with bench/restore.sh.
# shellcheck source=bench/cluster.sh
. "$BENCH/cluster.sh"

# ---------------------------------------------------------------------------------------------------- the cases
RUN="$WORK/run"
rm -rf "$RUN"
mkdir -p "$RUN/time" "$RUN/log" "$RUN/out" "$RUN/keep"
RESULTS="$RUN/results.jsonl"
PSQL_CONN=(-h 127.0.0.1 -p "$PORT" -U postgres -d "$DB")

CASES=(tool baseline tool-small baseline-small tool-encrypted)
# A fixed key file for tool-encrypted: 32 random bytes, base64, as `openssl rand -base64 32` writes it.
head -c 32 /dev/urandom | base64 >"$RUN/bench.key"
[ "$DIAG" = 1 ] && CASES+=(tool-tiny baseline-tiny tool-none psql-file psql-null tool-inline tool-nospin)
[ "$CONTEXT" = 1 ] && CASES+=(pg_dump-Fc pg_dump-Fd-j2)

# Runs one case under /usr/bin/time -v and records it; $1 case, $2 repetition (0 = warm-up).
run_case() {
    local name=$1 rep=$2 tf="$RUN/time/$1.$2" out="" load
    load=$(cut -d' ' -f1 /proc/loadavg)
    case "$name" in
        tool|tool-small|tool-tiny|tool-none|tool-inline|tool-nospin|tool-encrypted)
            local tenant=1 extra=() env=()
            [ "$name" = tool-small ] && tenant=2
            [ "$name" = tool-encrypted ] && extra=(--key-file "$RUN/bench.key")
            [ "$name" = tool-tiny ] && tenant=7
            [ "$name" = tool-none ] && extra=(--compression none)
            [ "$name" = tool-inline ] && env=(DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1)
            [ "$name" = tool-nospin ] && env=(DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0)
            rm -rf "$RUN/repo-$name"
            /usr/bin/time -v -o "$tf" env "${env[@]}" dotnet "$DLL" backup --connection "$CS" --tenant "$tenant" \
                --repository "$RUN/repo-$name" "${extra[@]}" --json >"$RUN/log/$name.$rep.json" 2>"$RUN/log/$name.$rep.err"
            out=$(find "$RUN/repo-$name" -maxdepth 1 -name 'tenant-*.tar*' ! -name '*.sha256')
            ;;
        baseline)
            out="$RUN/out/baseline.zst"
            /usr/bin/time -v -o "$tf" bash -c 'set -o pipefail; psql -X -q "${@:3}" -f "$1" | zstd -3 -T0 -q >"$2"' \
                _ "$RUN/baseline.sql" "$out" "${PSQL_CONN[@]}"
            ;;
        baseline-small|baseline-tiny)
            out="$RUN/out/$name.zst"
            /usr/bin/time -v -o "$tf" bash -c 'set -o pipefail; psql -X -q "${@:3}" -f "$1" | zstd -3 -T0 -q >"$2"' \
                _ "$RUN/$name.sql" "$out" "${PSQL_CONN[@]}"
            ;;
        psql-file)
            out="$RUN/out/psql.copy"
            /usr/bin/time -v -o "$tf" psql -X -q "${PSQL_CONN[@]}" -f "$RUN/baseline.sql" -o "$out"
            ;;
        psql-null)
            /usr/bin/time -v -o "$tf" psql -X -q "${PSQL_CONN[@]}" -f "$RUN/baseline.sql" -o /dev/null
            ;;
        pg_dump-Fc)
            out="$RUN/out/dump.Fc"
            rm -f "$out"
            /usr/bin/time -v -o "$tf" pg_dump "${PSQL_CONN[@]}" -Fc "${DUMP_TABLES[@]}" -f "$out"
            ;;
        pg_dump-Fd-j2)
            out="$RUN/out/dump.Fd"
            rm -rf "$out"
            /usr/bin/time -v -o "$tf" pg_dump "${PSQL_CONN[@]}" -Fd -j 2 -Z 1 "${DUMP_TABLES[@]}" -f "$out"
            ;;
    esac
    helpers record --results "$RESULTS" --case "$name" --rep "$rep" --load "$load" --time-file "$tf" ${out:+--size "$out"}
    if [ "$rep" = 0 ] && [ -n "$out" ]; then
        cp -r "$out" "$RUN/keep/$name.${out##*/}"
    fi
}

log "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# Warm-up: the tool first, as its schema.json gives the baseline its queries.
log "warm-up"
run_case tool 0
ARCHIVE=$(ls "$RUN/keep"/tool.tenant-*.tar.zst)
helpers schema-json "$ARCHIVE" >"$RUN/schema.json"
helpers psql-script "$RUN/schema.json" 1 >"$RUN/baseline.sql"
helpers psql-script "$RUN/schema.json" 2 >"$RUN/baseline-small.sql"
helpers psql-script "$RUN/schema.json" 7 >"$RUN/baseline-tiny.sql"
mkdir -p "$RUN/tables"
helpers psql-script "$RUN/schema.json" 1 --files "$RUN/tables" >"$RUN/tables.sql"
mapfile -t DUMP_TABLES < <(python3 -c '
import json, sys
for t in json.load(open(sys.argv[1]))["tables"]:
    print("-t"); print("\"%s\".\"%s\"" % (t["schema"], t["name"]))' "$RUN/schema.json")
for name in "${CASES[@]}"; do
    [ "$name" = tool ] || run_case "$name" 0
done

for rep in $(seq 1 "$REPS"); do
    log "repetition $rep of $REPS"
    n=${#CASES[@]}
    for i in $(seq 0 $((n - 1))); do
        run_case "${CASES[$(( (i + rep - 1) % n ))]}" "$rep"
    done
done

# ---------------------------------------------------------------------------------------------------- correctness
log "correctness: the archive's chunks against psql's output, table by table"
psql -X -q "${PSQL_CONN[@]}" -f "$RUN/tables.sql"
helpers verify --archive "$ARCHIVE" --schema "$RUN/schema.json" --tables-dir "$RUN/tables" \
    --baseline-stream "$RUN/keep/baseline.baseline.zst" --out "$RUN/verify.json"

# ---------------------------------------------------------------------------------------------------- report
cat >"$RUN/commands.txt" <<EOF
# tool (tenant 1; tool-small: --tenant 2; tool-tiny: --tenant 7; tool-none: add --compression none;
#       tool-encrypted: add --key-file KEY;
#       tool-inline: env DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1; tool-nospin: env DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0)
dotnet src/TenantBackup.Cli/bin/Release/net8.0/tenantbackup.dll backup --connection "\$CS" --tenant 1 --repository "\$REPO" --json
# baseline (baseline-small, baseline-tiny: the same with baseline-small.sql, baseline-tiny.sql: tenants 2 and 7)
psql -X -q -h 127.0.0.1 -p \$PORT -U postgres -d $DB -f baseline.sql | zstd -3 -T0 -q > baseline.zst
# psql-file / psql-null
psql -X -q -h 127.0.0.1 -p \$PORT -U postgres -d $DB -f baseline.sql -o psql.copy   # or -o /dev/null
# pg_dump-Fc / pg_dump-Fd-j2
pg_dump -h 127.0.0.1 -p \$PORT -U postgres -d $DB -Fc ${DUMP_TABLES[*]} -f dump.Fc
pg_dump -h 127.0.0.1 -p \$PORT -U postgres -d $DB -Fd -j 2 -Z 1 ${DUMP_TABLES[*]} -f dump.Fd
# each of them: /usr/bin/time -v -o TIMEFILE <command>
EOF
DATASET_TEXT="Loaded by \`bench/load.sql\` with \`rows=$ROWS\`: tenant 1 has $ROWS rows over its tables, tenant 2 a tenth of that, \
tenants 3–6 a quarter each (as much again as tenant 1), tenants 7–26 $((ROWS / 2000 > 100 ? ROWS / 2000 : 100)) each. \
Every table interleaves the tenants' rows, as years of concurrent use would; indexes on every tenant and FK column; \
\`countries\` is a shared table (not backed up); \`order_items\` has no tenant column and is in scope through \`orders\`. \
All reads are from a warm cache (database $("${PSQL[@]}" -d "$DB" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))"), \
RAM $(free -g | awk '/^Mem:/ {print $2}') GiB)."
helpers meta --port "$PORT" --dbname "$DB" --verify "$RUN/verify.json" --schema "$RUN/schema.json" \
    --small-archive "$(ls "$RUN/keep"/tool-small.tenant-*.tar.zst)" \
    $(ls "$RUN/keep"/tool-tiny.tenant-*.tar.zst 2>/dev/null | sed 's/^/--tiny-archive=/') --reps "$REPS" --load-before "$LOAD_BEFORE" \
    --dataset-text "$DATASET_TEXT" --invocation "$INVOCATION" --commands-file "$RUN/commands.txt" \
    --baseline-script "$RUN/baseline.sql" --out "$RUN/meta.json"
mkdir -p "$(dirname "$OUTPUT")"
helpers report --results "$RESULTS" --meta "$RUN/meta.json" --verify "$RUN/verify.json" --output "$OUTPUT" \
    --findings "$FINDINGS"
log "report written to $OUTPUT"
