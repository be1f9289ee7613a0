#!/usr/bin/env bash
# bench/verify.sh — times `tenantbackup verify` against sha256sum and zstd doing the same reading, in one run.
#
# What it does, all on this machine:
#   1. builds the CLI (Release) unless --no-build; starts the throwaway cluster and loads the data set exactly as
#      bench/run.sh does (bench/cluster.sh);
#   2. backs up tenant 1 with the CLI (untimed);
#   3. one warm-up repetition, then --reps measured repetitions of every case, rotated each time, each under
#      /usr/bin/time -v (wall time, max RSS, CPU) with the 1-minute load average noted before it:
#        verify          tenantbackup verify ARCHIVE --json: the archive's hash against its .sha256 and the index,
#                        then every entry decompressed and hashed against manifest.json, the JSON entries parsed
#        baseline-full   sha256sum ARCHIVE, then zstd -dc ARCHIVE | sha256sum: the same bytes read, decompressed and
#                        hashed once each, nothing parsed or compared
#        baseline-openssl  the same with openssl dgst -sha256, the SHA-256 .NET itself uses on Linux (coreutils'
#                        sha256sum does not use the CPU's SHA instructions, OpenSSL does where the CPU has them)
#        verify-quick    tenantbackup verify ARCHIVE --quick: the archive's hash only
#        baseline-hash   sha256sum ARCHIVE
#        restore-test    tenantbackup verify ARCHIVE --restore-test --connection CS: the above and the whole restore
#                        rehearsed in the database, rolled back (tenant 1's rows present: a Replace of every row)
#      The archive is in the page cache for every case (the warm-up reads it), so this times the work, not the disk;
#   4. prints a Markdown table of medians (wall, CPU, peak RSS) and the ratios verify/baseline-full and
#      verify-quick/baseline-hash. Raw numbers stay in WORK/verify-run/results.jsonl with --keep.
#
# Usage: bench/verify.sh [--rows N] [--reps N] [--keep] [--cluster DIR] [--no-build] [--no-restore-test]
#   --rows N            rows of tenant 1 over all its tables (default 2000000)
#   --reps N            measured repetitions (default 5)
#   --keep              leave the cluster running and its folder in place at exit
#   --cluster DIR       reuse a folder left by --keep (of any bench script; loads again only when needed)
#   --no-build          use the CLI as already built
#   --no-restore-test   skip the restore-test case (the slow one)
#
# Needs what bench/run.sh needs but pg_dump.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
ROWS=2000000
REPS=5
KEEP=0
CLUSTER=""
BUILD=1
RESTORE_TEST=1
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DB=tenantbench

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --cluster) CLUSTER=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --no-restore-test) RESTORE_TEST=0; shift ;;
        -h|--help) usage 0 ;;
        *) echo "bench/verify.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
    esac
done
[[ "$ROWS" =~ ^[0-9]+$ ]] && [ "$ROWS" -ge 2000 ] || { echo "bench/verify.sh: --rows must be a whole number of at least 2000" >&2; exit 2; }
[[ "$REPS" =~ ^[0-9]+$ ]] && [ "$REPS" -ge 1 ] || { echo "bench/verify.sh: --reps must be at least 1" >&2; exit 2; }

ME=bench/verify.sh
LOG_TAG=verify-bench
NEEDED_TOOLS=(psql zstd sha256sum openssl python3 dotnet)
# shellcheck source=bench/cluster.sh
. "$BENCH/cluster.sh"

RUN="$WORK/verify-run"
rm -rf "$RUN"
mkdir -p "$RUN/time" "$RUN/log" "$RUN/repo"
RESULTS="$RUN/results.jsonl"

log "backing up tenant 1 (untimed)"
dotnet "$DLL" backup --connection "$CS" --tenant 1 --repository "$RUN/repo" --json >"$RUN/log/backup.json" 2>"$RUN/log/backup.err" \
    || { cat "$RUN/log/backup.err" >&2; exit 1; }
ARCHIVE=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["path"])' "$RUN/log/backup.json")
log "archive: $ARCHIVE ($(stat -c %s "$ARCHIVE") bytes)"

CASES=(verify baseline-full baseline-openssl verify-quick baseline-hash)
[ "$RESTORE_TEST" = 1 ] && CASES+=(restore-test)

# Runs one case under /usr/bin/time -v and records it; $1 case, $2 repetition (0 = warm-up).
run_case() {
    local name=$1 rep=$2 tf="$RUN/time/$1.$2" out="$RUN/log/$1.$2" load status=0
    load=$(cut -d' ' -f1 /proc/loadavg)
    case "$name" in
        verify) /usr/bin/time -v -o "$tf" dotnet "$DLL" verify "$ARCHIVE" --json >"$out.out" 2>"$out.err" || status=$? ;;
        verify-quick) /usr/bin/time -v -o "$tf" dotnet "$DLL" verify "$ARCHIVE" --quick --json >"$out.out" 2>"$out.err" || status=$? ;;
        restore-test)
            /usr/bin/time -v -o "$tf" dotnet "$DLL" verify "$ARCHIVE" --restore-test --connection "$CS" --json \
                >"$out.out" 2>"$out.err" || status=$?
            ;;
        baseline-full)
            /usr/bin/time -v -o "$tf" sh -c 'sha256sum "$1" && zstd -dcq "$1" | sha256sum' sh "$ARCHIVE" \
                >"$out.out" 2>"$out.err" || status=$?
            ;;
        baseline-openssl)
            /usr/bin/time -v -o "$tf" sh -c 'openssl dgst -sha256 "$1" && zstd -dcq "$1" | openssl dgst -sha256' sh "$ARCHIVE" \
                >"$out.out" 2>"$out.err" || status=$?
            ;;
        baseline-hash) /usr/bin/time -v -o "$tf" sha256sum "$ARCHIVE" >"$out.out" 2>"$out.err" || status=$? ;;
    esac
    if [ "$status" != 0 ]; then
        log "$name (repetition $rep) failed with exit code $status:"
        cat "$out.err" "$out.out" >&2
        exit 1
    fi
    helpers record --results "$RESULTS" --case "$name" --rep "$rep" --load "$load" --time-file "$tf"
}

log "warm-up"
for name in "${CASES[@]}"; do run_case "$name" 0; done
for rep in $(seq 1 "$REPS"); do
    log "repetition $rep of $REPS"
    # Rotated, so that no case always follows the same one.
    for i in "${!CASES[@]}"; do
        run_case "${CASES[$(((i + rep) % ${#CASES[@]}))]}" "$rep"
    done
done

python3 - "$RESULTS" "$ARCHIVE" "$ROWS" "$REPS" "${CASES[@]}" <<'PY'
import json, os, statistics, sys

results, archive, rows, reps, cases = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
runs = [json.loads(line) for line in open(results, encoding="utf-8")]
measured = [r for r in runs if not r["warmup"]]

def median(case, key):
    return statistics.median(r[key] for r in measured if r["case"] == case)

def wall_range(case):
    walls = [r["wall"] for r in measured if r["case"] == case]
    return f"{min(walls):.2f}–{max(walls):.2f}"

print(f"Tenant 1: {rows:,} rows; archive {os.path.getsize(archive) / 1e6:.1f} MB (zstd -3); medians of {reps} repetitions.")
print()
print("| case | wall s (range) | client CPU s | peak RSS |")
print("|---|---:|---:|---:|")
for case in cases:
    cpu = median(case, "user") + median(case, "sys")
    print(f"| `{case}` | {median(case, 'wall'):.2f} ({wall_range(case)}) | {cpu:.2f} | {median(case, 'rss_kb') / 1024:.0f} MB |")
print()
for tool, base in (("verify", "baseline-full"), ("verify", "baseline-openssl"), ("verify-quick", "baseline-hash")):
    if tool in cases and base in cases and median(base, "wall") > 0:
        print(f"- `{tool}` / `{base}`: **{median(tool, 'wall') / median(base, 'wall'):.2f}**")
PY
