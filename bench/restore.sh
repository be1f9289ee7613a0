#!/usr/bin/env bash
# bench/restore.sh — times `tenantbackup restore` against psql + COPY FROM of the same rows in one run.
#
# What it does, all on this machine:
#   1. builds the CLI (Release) unless --no-build; starts the throwaway cluster and loads the data set exactly as
#      bench/run.sh does (bench/cluster.sh: tenant 1 of --rows rows, tenant 2 ten times smaller, other tenants around
#      them, all interleaved, indexes on every tenant and FK column, the FKs);
#   2. backs up tenants 1 and 2 with the CLI (untimed) and, from tenant 1's archive, prepares the baseline's input
#      (untimed): per table, the archive's data chunks concatenated and compressed with zstd -3;
#   3. one warm-up repetition of the tenant 2 cases (runtime, binaries and the archives in the page cache), then
#      --reps measured repetitions of every case, rotated each time; each run under /usr/bin/time -v (wall time, max
#      RSS, CPU) with the 1-minute load average noted before it, and the server's log of every statement it ran:
#        replace-empty   tenant 1's rows deleted beforehand (untimed, children first; the tenants row stays), then
#                        tenantbackup restore ARCHIVE --yes --json: Replace, with its safety backup of the empty tenant
#        replace-nopre   the same with --no-pre-backup
#        baseline-copy   tenant 1's rows deleted the same way, then one psql session, one transaction (psql -1):
#                        \copy "schema"."table" (cols) FROM PROGRAM 'zstd -dcq FILE' for every table of the archive
#                        but the tenants row (which stays), in the archive's order — same rows, indexes and FKs
#        merge           tenant 1 present, --mode merge: every row overwritten in place (with its safety backup of
#                        the whole tenant, the default)
#        clone           --target-tenant 1000+rep: every key collides with tenant 1's and is renumbered; the clone
#                        is deleted afterwards (untimed)
#        replace-small   replace-empty for tenant 2 (10x smaller): peak RSS must not grow with the tenant
#        baseline-small  baseline-copy for tenant 2
#      Before every timed run (untimed): the deletion the case needs, VACUUM (ANALYZE) of the tenant tables (so
#      neither dead rows of the last case nor stale statistics weigh on the next) and CHECKPOINT (so no run pays for
#      writing out another's pages, and no timed checkpoint starts inside a run). Every run starts from the same,
#      clean state; the safety backups go to a repository emptied after each run;
#   4. checks correctness: tenant 1's rows after the first measured baseline-copy run and after the first measured
#      replace-empty run (hashed right after them, untimed), each table's COPY text sorted, equal each other and the
#      archive's; and every table, all tenants, is at the end what it was
#      at the start (count and sum of hashtext(row) — the clones are gone, tenant 1 is back as it was);
#   5. writes its section of docs/benchmarks.md, between the markers <!-- bench/restore.sh: begin --> and
#      <!-- bench/restore.sh: end --> (appended when the file has none; bench/run.sh keeps the section when it
#      rewrites the file), with bench/restore-findings.md inside it when that exists. With --keep, the section can be
#      written again from the same measurements (after editing the findings): bash WORK/restore-run/report.sh.
#
# Usage: bench/restore.sh [--rows N] [--reps N] [--keep] [--cluster DIR] [--output FILE] [--no-build] [--no-diag]
#                         [--findings FILE]
#   --rows N        rows of tenant 1 over all its tables (default 2000000)
#   --reps N        measured repetitions (default 3)
#   --keep          leave the cluster running and its folder in place at exit (prints how to reach and stop it)
#   --cluster DIR   reuse a folder left by --keep (of bench/run.sh or this script; loads again only when needed)
#   --output FILE   the report whose restore section is written (default docs/benchmarks.md)
#   --no-build      use the CLI as already built
#   --no-diag       skip replace-nopre and baseline-small
#   --findings FILE markdown put at the end of the section (default bench/restore-findings.md; /dev/null for none)
#
# Needs what bench/run.sh needs but pg_dump. Disk: about 1.5 GB in the temporary folder per million rows.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
ROWS=2000000
REPS=3
KEEP=0
CLUSTER=""
OUTPUT="$ROOT/docs/benchmarks.md"
BUILD=1
DIAG=1
FINDINGS="$BENCH/restore-findings.md"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DB=tenantbench
INVOCATION="bench/restore.sh $*"

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
        --findings) FINDINGS=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "bench/restore.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
    esac
done
[[ "$ROWS" =~ ^[0-9]+$ ]] && [ "$ROWS" -ge 2000 ] || { echo "bench/restore.sh: --rows must be a whole number of at least 2000" >&2; exit 2; }
[[ "$REPS" =~ ^[0-9]+$ ]] && [ "$REPS" -ge 1 ] || { echo "bench/restore.sh: --reps must be at least 1" >&2; exit 2; }

ME=bench/restore.sh
LOG_TAG=restore-bench
NEEDED_TOOLS=(psql zstd tar python3 dotnet)
RUN_START=$(date +%s)
# shellcheck source=bench/cluster.sh
. "$BENCH/cluster.sh"

rhelpers() { python3 "$BENCH/restore_helpers.py" "$@"; }

# The cases delete and restore tenants: until the end proves every table is as loaded, a kept cluster is marked as
# needing a new load, so a run that fails half-way never leaves a damaged data set to the next one.
LOADED_MARK=$(cat "$WORK/loaded-rows")
rm -f "$WORK/loaded-rows"

RUN="$WORK/restore-run"
rm -rf "$RUN"
mkdir -p "$RUN/time" "$RUN/log" "$RUN/repo" "$RUN/copy" "$RUN/check"
RESULTS="$RUN/results.jsonl"
PREP="$RUN/prep.jsonl"
PSQL_CONN=(-h 127.0.0.1 -p "$PORT" -U postgres -d "$DB")
SERVER_LOG="$PGDATA/server.log"
# Every statement of a timed run goes to the server log with its duration: where the time goes, run by run.
LOG_STATEMENTS="-c log_min_duration_statement=0"
CS_LOGGED="$CS;Options='$LOG_STATEMENTS'"
TENANT_TABLES=""

sql() { "${PSQL[@]}" -d "$DB" "$@"; }
seconds_since() { python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.2f}")' "$1"; }

# ---------------------------------------------------------------------------------------------------- the archives
log "backing up tenants 1 and 2 (untimed)"
for tenant in 1 2; do
    dotnet "$DLL" backup --connection "$CS" --tenant "$tenant" --repository "$RUN/repo" --json >"$RUN/log/backup-$tenant.json" \
        2>"$RUN/log/backup-$tenant.err" || { cat "$RUN/log/backup-$tenant.err" >&2; exit 1; }
done
ARCHIVE1=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["path"])' "$RUN/log/backup-1.json")
ARCHIVE2=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["path"])' "$RUN/log/backup-2.json")
helpers schema-json "$ARCHIVE1" >"$RUN/schema.json"
TENANT_TABLES=$(rhelpers table-list "$RUN/schema.json")

log "preparing the baseline's COPY files from the archives (untimed)"
prep_start=$(date +%s.%N)
for tenant in 1 2; do
    archive=$ARCHIVE1
    [ "$tenant" = 2 ] && archive=$ARCHIVE2
    mkdir -p "$RUN/copy/$tenant"
    rhelpers copy-files "$archive" "$RUN/copy/$tenant"
    rhelpers copy-script "$RUN/schema.json" "$RUN/copy/$tenant" >"$RUN/baseline-$tenant.sql"
    rhelpers delete-script "$RUN/schema.json" "$tenant" >"$RUN/delete-$tenant.sql"
done
log "prepared in $(seconds_since "$prep_start") s"

# Whole tables, all tenants: compared at the end, when tenant 1 is back as it was and the clones are gone.
rhelpers fingerprint --port "$PORT" --dbname "$DB" --schema "$RUN/schema.json" --out "$RUN/check/fingerprint-start.json"

# ---------------------------------------------------------------------------------------------------- the cases
CASES=(replace-empty baseline-copy merge clone replace-small)
[ "$DIAG" = 1 ] && CASES+=(replace-nopre baseline-small)

# Untimed state before a case: the deletion it needs, then VACUUM (ANALYZE) and CHECKPOINT, each timed for the report.
prepare() {
    local name=$1 rep=$2 tenant="" t0 deleted="null" vacuumed checkpointed
    case "$name" in
        replace-empty|replace-nopre|baseline-copy) tenant=1 ;;
        replace-small|baseline-small) tenant=2 ;;
    esac
    if [ -n "$tenant" ]; then
        t0=$(date +%s.%N)
        sql -f "$RUN/delete-$tenant.sql" >/dev/null
        deleted=$(seconds_since "$t0")
    fi
    t0=$(date +%s.%N)
    sql -c "VACUUM (ANALYZE) $TENANT_TABLES" >/dev/null
    vacuumed=$(seconds_since "$t0")
    t0=$(date +%s.%N)
    sql -c "CHECKPOINT" >/dev/null
    checkpointed=$(seconds_since "$t0")
    printf '{"case": "%s", "rep": %s, "delete": %s, "vacuum": %s, "checkpoint": %s}\n' \
        "$name" "$rep" "$deleted" "$vacuumed" "$checkpointed" >>"$PREP"
}

# The tool's command line for a case, into the array TOOL.
tool_command() {
    local name=$1 rep=$2
    TOOL=(dotnet "$DLL" restore)
    case "$name" in
        replace-empty) TOOL+=("$ARCHIVE1") ;;
        replace-nopre) TOOL+=("$ARCHIVE1" --no-pre-backup) ;;
        merge) TOOL+=("$ARCHIVE1" --mode merge) ;;
        clone) TOOL+=("$ARCHIVE1" --target-tenant "$((1000 + rep))") ;;
        replace-small) TOOL+=("$ARCHIVE2") ;;
    esac
    TOOL+=(--connection "$CS_LOGGED" --repository "$RUN/safety" --yes --json)
}

# Runs one case under /usr/bin/time -v and records it; $1 case, $2 repetition (0 = warm-up).
run_case() {
    local name=$1 rep=$2 tf="$RUN/time/$1.$2" load offset status=0 extra="{}"
    prepare "$name" "$rep"
    rm -rf "$RUN/safety"
    load=$(cut -d' ' -f1 /proc/loadavg)
    offset=$(stat -c %s "$SERVER_LOG")
    case "$name" in
        baseline-copy|baseline-small)
            local tenant=1
            [ "$name" = baseline-small ] && tenant=2
            PGOPTIONS="$LOG_STATEMENTS" /usr/bin/time -v -o "$tf" psql -X -q -1 -v ON_ERROR_STOP=1 "${PSQL_CONN[@]}" \
                -f "$RUN/baseline-$tenant.sql" >"$RUN/log/$name.$rep.out" 2>"$RUN/log/$name.$rep.err" || status=$?
            ;;
        *)
            tool_command "$name" "$rep"
            /usr/bin/time -v -o "$tf" "${TOOL[@]}" >"$RUN/log/$name.$rep.json" 2>"$RUN/log/$name.$rep.err" || status=$?
            ;;
    esac
    if [ "$status" != 0 ]; then
        log "$name (repetition $rep) failed with exit code $status:"
        cat "$RUN/log/$name.$rep.err" >&2
        exit 1
    fi
    sleep 0.2  # the server writes the last statement's line after the client has gone
    rhelpers statements --log "$SERVER_LOG" --from "$offset" --out "$RUN/log/$name.$rep.statements.json"
    if [ -f "$RUN/log/$name.$rep.json" ]; then
        extra=$(rhelpers result-summary "$RUN/log/$name.$rep.json" --safety "$RUN/safety")
    fi
    helpers record --results "$RESULTS" --case "$name" --rep "$rep" --load "$load" --time-file "$tf" \
        --extra "$(rhelpers merge-json "$extra" "$(rhelpers statements-summary "$RUN/log/$name.$rep.statements.json")")"
    rm -rf "$RUN/safety"
    # Correctness, from the first measured runs (untimed): tenant 1 as the baseline loaded it, and as a restore did.
    if [ "$rep" = 1 ] && [ "$name" = baseline-copy ]; then
        rhelpers tenant-hashes --port "$PORT" --dbname "$DB" --schema "$RUN/schema.json" --tenant 1 --out "$RUN/check/after-baseline.json"
    elif [ "$rep" = 1 ] && [ "$name" = replace-empty ]; then
        rhelpers tenant-hashes --port "$PORT" --dbname "$DB" --schema "$RUN/schema.json" --tenant 1 --out "$RUN/check/after-restore.json"
    fi
    if [ "$name" = clone ]; then
        # The clone goes again, root row and all, so the next case meets the data set as loaded.
        sql -f <(rhelpers delete-script "$RUN/schema.json" "$((1000 + rep))" --root) >/dev/null
    fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before the run: $LOAD_BEFORE"

log "warm-up"
for name in replace-small baseline-small; do
    run_case "$name" 0
done

for rep in $(seq 1 "$REPS"); do
    log "repetition $rep of $REPS"
    n=${#CASES[@]}
    for i in $(seq 0 $((n - 1))); do
        run_case "${CASES[$(( (i + rep - 1) % n ))]}" "$rep"
    done
done

# ---------------------------------------------------------------------------------------------------- correctness
log "correctness: tenant 1 after the baseline and after a restore (hashed after repetition 1's runs) against the archive"
rhelpers archive-hashes "$RUN/copy/1" --schema "$RUN/schema.json" --out "$RUN/check/archive.json"
rhelpers fingerprint --port "$PORT" --dbname "$DB" --schema "$RUN/schema.json" --out "$RUN/check/fingerprint-end.json"
rhelpers verify --check-dir "$RUN/check" --out "$RUN/verify.json"
if python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["ok"] else 1)' "$RUN/verify.json"; then
    echo "$LOADED_MARK" >"$WORK/loaded-rows"
fi

# ---------------------------------------------------------------------------------------------------- report
cat >"$RUN/commands.txt" <<EOF
# \$CS = "Host=127.0.0.1;Port=\$PORT;Username=postgres;Database=$DB;Options='$LOG_STATEMENTS'"
# replace-empty (replace-nopre: add --no-pre-backup; replace-small: tenant 2's archive)
dotnet src/TenantBackup.Cli/bin/Release/net8.0/tenantbackup.dll restore "\$ARCHIVE" --connection "\$CS" --repository "\$SAFETY" --yes --json
# merge
dotnet src/TenantBackup.Cli/bin/Release/net8.0/tenantbackup.dll restore "\$ARCHIVE" --mode merge --connection "\$CS" --repository "\$SAFETY" --yes --json
# clone (N = 1000 + repetition)
dotnet src/TenantBackup.Cli/bin/Release/net8.0/tenantbackup.dll restore "\$ARCHIVE" --target-tenant N --connection "\$CS" --repository "\$SAFETY" --yes --json
# baseline-copy (baseline-small: baseline-2.sql)
PGOPTIONS='$LOG_STATEMENTS' psql -X -q -1 -v ON_ERROR_STOP=1 -h 127.0.0.1 -p \$PORT -U postgres -d $DB -f baseline-1.sql
# each of them: /usr/bin/time -v -o TIMEFILE <command>
# before each (untimed): delete-1.sql or delete-2.sql where the case needs an empty tenant, then
#   VACUUM (ANALYZE) $TENANT_TABLES; CHECKPOINT;
EOF
# The report is a script of its own, so that with --keep it can be written again from the same measurements after
# bench/restore-findings.md changes (bash WORK/restore-run/report.sh, with the cluster running).
q() { printf '%q' "$1"; }
cat >"$RUN/report.sh" <<EOF
#!/usr/bin/env bash
exec python3 $(q "$BENCH/restore_helpers.py") report --results $(q "$RESULTS") --prep $(q "$PREP") \\
    --verify $(q "$RUN/verify.json") --schema $(q "$RUN/schema.json") --port $PORT --dbname $DB \\
    --archive $(q "$ARCHIVE1") --small-archive $(q "$ARCHIVE2") --reps $REPS --rows $ROWS \\
    --load-before $(q "$LOAD_BEFORE") --load-seconds $(q "${LOAD_SECONDS:-}") \\
    --run-seconds $(( $(date +%s) - RUN_START )) --date $(q "$(date -u '+%Y-%m-%d %H:%M UTC')") \\
    --invocation $(q "$INVOCATION") --commands-file $(q "$RUN/commands.txt") \\
    --baseline-script $(q "$RUN/baseline-1.sql") --delete-script $(q "$RUN/delete-1.sql") \\
    --findings $(q "$FINDINGS") --output $(q "$OUTPUT")
EOF
bash "$RUN/report.sh"
log "restore section written to $OUTPUT; whole run $(( $(date +%s) - RUN_START )) s"
