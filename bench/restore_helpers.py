#!/usr/bin/env python3
"""Helpers of bench/restore.sh: the baseline's input, deletion scripts, the server's statement log, the checks.

Subcommands (each reads and writes only the files named on its command line):
  table-list SCHEMA                  the archive's tables, quoted and comma-separated (for VACUUM)
  copy-files ARCHIVE DIR             per table, the archive's data chunks concatenated, zstd -3: DIR/NNNN.copy.zst
  copy-script SCHEMA DIR             the baseline's psql script: \\copy ... FROM PROGRAM 'zstd -dcq DIR/NNNN.copy.zst'
                                     for every table but the root, in the archive's order
  delete-script SCHEMA TENANT [--root]
                                     SQL deleting the tenant's rows, children first (the root row too with --root)
  statements --log FILE --from OFFSET --out FILE
                                     the statements the server logged from byte OFFSET on, with their durations
  statements-summary FILE            JSON: statements logged, their total time, time by phase
  result-summary RESULT [--safety DIR]
                                     JSON: what a restore's --json result says it did, and its safety backup's size
  merge-json A B                     two JSON objects as one
  fingerprint ...                    per table, all tenants: count and sum of hashtext(row)
  tenant-hashes ...                  per table, one tenant: SHA-256 of its COPY text, lines sorted
  archive-hashes DIR ...             the same for the baseline's COPY files
  verify --check-dir DIR --out FILE  compares the above
  report ...                         the restore section of docs/benchmarks.md (bench/restore_report.py)
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys

from helpers import open_archive, quote_ident, quote_literal

TENANT_SETTING = "tenantbackup.tenant"


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    return sorted(schema["tables"], key=lambda t: t["ordinal"])


def qualified(table):
    return f"{quote_ident(table['schema'])}.{quote_ident(table['name'])}"


def cmd_table_list(args):
    print(", ".join(qualified(t) for t in load_schema(args.schema)))


def cmd_copy_files(args):
    """One zstd process per table, fed the table's chunks in archive order."""
    current, proc = None, None
    for member, data in open_archive(args.archive):
        m = re.match(r"data/(\d{4})-.*\.(\d{4})\.copy$", member.name)
        if not m:
            continue
        ordinal = int(m.group(1))
        if ordinal != current:
            if proc is not None:
                proc.stdin.close()
                if proc.wait() != 0:
                    raise SystemExit("zstd failed")
            current = ordinal
            out = os.path.join(args.dir, f"{ordinal:04d}.copy.zst")
            proc = subprocess.Popen(["zstd", "-3", "-q", "-f", "-o", out], stdin=subprocess.PIPE)
        while True:
            block = data.read(1 << 20)
            if not block:
                break
            proc.stdin.write(block)
    if proc is not None:
        proc.stdin.close()
        if proc.wait() != 0:
            raise SystemExit("zstd failed")


def cmd_copy_script(args):
    lines = ["\\set ON_ERROR_STOP on"]
    for table in load_schema(args.schema):
        path = os.path.join(os.path.abspath(args.dir), f"{table['ordinal']:04d}.copy.zst")
        if table["scope"] == "root" or not os.path.exists(path):
            continue  # the tenant's root row stays in place (see restore.sh); a table without rows has no file
        columns = ", ".join(quote_ident(c) for c in table["dataColumns"])
        lines.append(f"\\copy {qualified(table)} ({columns}) FROM PROGRAM {quote_literal('zstd -dcq ' + path)}")
    print("\n".join(lines))


def cmd_delete_script(args):
    lines = [
        "\\set ON_ERROR_STOP on",
        "BEGIN;",
        f"SELECT pg_catalog.set_config({quote_literal(TENANT_SETTING)}, {quote_literal(args.tenant)}, true) \\gset",
    ]
    for table in reversed(load_schema(args.schema)):
        if table["scope"] == "root" and not args.root:
            continue
        lines.append(f"DELETE FROM {qualified(table)} t0 WHERE {table['filter']};")
    lines.append("COMMIT;")
    print("\n".join(lines))


# ------------------------------------------------------------------------------------------------ the server's log

LOG_LINE = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (LOG|ERROR|WARNING|DETAIL|STATEMENT|CONTEXT|HINT):  (.*)$")
DURATION = re.compile(r"^duration: ([\d.]+) ms  (statement|parse|bind|execute)([^:]*): (.*)$", re.S)

# Phases of a restore by the statements that make them; the first pattern that matches wins.
PHASES = [
    ("stage: COPY into temp tables", r"^COPY pg_temp\.\S*tb_stage_"),
    ("stage: ANALYZE, count", r"^(ANALYZE pg_temp\.|SELECT count\(\*\) FROM pg_temp\.\S*tb_stage_\S*$)"),
    ("keys: collisions found and given new values", r"^(WITH b AS .* )?INSERT INTO pg_temp\.\S*tb_map_"),
    ("keys: sequences moved past the new values", r"setval\(\$1::regclass, \(SELECT max\(new\)"),
    ("keys: staged rows rewritten", r"^UPDATE pg_temp\.|setval\(\$1::regclass, GREATEST"),
    ("checks and counts against the target", r"^SELECT count\(\*\) FROM (pg_temp\.\S*tb_stage_|\(SELECT )"),
    ("purge: DELETE", r"^DELETE FROM "),
    ("write: INSERT", r"^INSERT INTO "),
    ("write: UPDATE", r"^UPDATE "),
    ("sequences", r"pg_catalog\.setval"),
    ("safety backup: COPY out", r"^COPY \(SELECT"),
    ("baseline: COPY in", r"^COPY \S+ \(.*\) FROM STDIN"),
    ("COMMIT", r"^(COMMIT|END)\b"),
    ("other statements (catalog, locks, settings)", r""),
]


def cmd_statements(args):
    """Statements logged from byte --from on: pid, kind, duration, SQL (one line); and checkpoints started."""
    with open(args.log, "rb") as f:
        f.seek(args.from_)
        text = f.read().decode("utf-8", errors="replace")
    statements, checkpoints = [], 0
    entry = None
    for line in text.split("\n"):
        m = LOG_LINE.match(line)
        if m is None:
            if entry is not None and line.startswith("\t"):
                entry["sql"] += " " + line.strip()
            continue
        entry = None
        pid, level, message = m.groups()
        if level != "LOG":
            continue
        if message.startswith("checkpoint starting"):
            checkpoints += 1
        d = DURATION.match(message)
        if d:
            entry = {"pid": int(pid), "ms": float(d.group(1)), "kind": d.group(2), "sql": d.group(4).strip()}
            statements.append(entry)
    for s in statements:
        s["sql"] = " ".join(s["sql"].split())
        s["phase"] = phase_of(s["sql"])
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"statements": statements, "checkpoints": checkpoints}, f, indent=1)


def phase_of(sql):
    return next(name for name, pattern in PHASES if re.search(pattern, sql))


def summarize_statements(path):
    with open(path, encoding="utf-8") as f:
        log = json.load(f)
    phases = {name: 0.0 for name, _ in PHASES}
    for s in log["statements"]:
        phases[phase_of(s["sql"])] += s["ms"] / 1000
    phases = {k: v for k, v in phases.items() if v > 0}
    return {
        "statements": len(log["statements"]),
        "server_s": round(sum(s["ms"] for s in log["statements"]) / 1000, 3),
        "phases": {k: round(v, 3) for k, v in phases.items()},
        "checkpoints": log["checkpoints"],
        "statementsFile": os.path.abspath(path),
    }


def cmd_statements_summary(args):
    print(json.dumps(summarize_statements(args.file)))


def cmd_result_summary(args):
    """Totals of a restore's --json result (camelCase), whatever its exact nesting."""
    with open(args.result, encoding="utf-8") as f:
        text = f.read().strip()
    result = json.loads(text) if text else {}
    if isinstance(result, list):
        result = result[0] if result else {}
    out = {}
    tables = result.get("tables") or []
    for key in ("inserted", "updated", "deleted", "remapped"):
        if key in result and isinstance(result[key], (int, float)):
            out[key] = result[key]
        elif tables:
            out[key] = sum(t.get(key) or 0 for t in tables)
    for key in ("preRestoreBackupId", "duration", "targetTenant", "mode"):
        if key in result:
            out[key] = result[key]
    if args.safety and os.path.isdir(args.safety):
        archives = [os.path.join(d, n) for d, _, files in os.walk(args.safety) for n in files if ".tar" in n and not n.endswith(".sha256")]
        out["safetyBytes"] = sum(os.path.getsize(p) for p in archives)
    print(json.dumps(out))


def cmd_merge_json(args):
    merged = json.loads(args.a)
    merged.update(json.loads(args.b))
    print(json.dumps(merged))


# ------------------------------------------------------------------------------------------------ checks

def psql(port, dbname, *extra, env=None, **kwargs):
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", dbname, *extra]
    return subprocess.run(cmd, check=True, env=env, **kwargs)


def cmd_fingerprint(args):
    out = {}
    for table in load_schema(args.schema):
        sql = f"SELECT count(*), coalesce(sum(hashtext(t0::text)::bigint), 0) FROM {qualified(table)} t0"
        count, total = psql(args.port, args.dbname, "-At", "-F", " ", "-c", sql, capture_output=True, text=True).stdout.split()
        out[f"{table['schema']}.{table['name']}"] = {"rows": int(count), "hashSum": total}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)


def sorted_sha(producer, env=None):
    """SHA-256 and line count of a COPY stream with its lines sorted bytewise (row order is the heap's, not the data's)."""
    proc = subprocess.Popen(["bash", "-o", "pipefail", "-c", f"{producer} | LC_ALL=C sort -S 25%"], stdout=subprocess.PIPE, env=env)
    h, lines = hashlib.sha256(), 0
    while block := proc.stdout.read(1 << 20):
        h.update(block)
        lines += block.count(b"\n")
    if proc.wait() != 0:
        raise SystemExit(f"{producer} failed")
    return h.hexdigest(), lines


def cmd_tenant_hashes(args):
    env = dict(os.environ, PGOPTIONS=f"-c {TENANT_SETTING}={args.tenant}")
    out = {}
    for table in load_schema(args.schema):
        columns = ", ".join("t0." + quote_ident(c) for c in table["dataColumns"])
        query = f"COPY (SELECT {columns} FROM {qualified(table)} t0 WHERE {table['filter']}) TO STDOUT"
        producer = (f"psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p {args.port} -U postgres -d {args.dbname} "
                    f"-c {shell_quote(query)}")
        sha, lines = sorted_sha(producer, env)
        out[f"{table['schema']}.{table['name']}"] = {"sha256": sha, "rows": lines}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)


def cmd_archive_hashes(args):
    out = {}
    for table in load_schema(args.schema):
        path = os.path.join(args.dir, f"{table['ordinal']:04d}.copy.zst")
        sha, lines = sorted_sha(f"zstd -dcq {shell_quote(path)}") if os.path.exists(path) else (None, 0)
        out[f"{table['schema']}.{table['name']}"] = {"sha256": sha, "rows": lines}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)


def shell_quote(s):
    return "'" + s.replace("'", "'\"'\"'") + "'"


def cmd_verify(args):
    def load(name):
        with open(os.path.join(args.check_dir, name), encoding="utf-8") as f:
            return json.load(f)

    baseline, restored, archive = load("after-baseline.json"), load("after-restore.json"), load("archive.json")
    start, end = load("fingerprint-start.json"), load("fingerprint-end.json")
    problems, tables = [], []
    for name in archive:
        a, b, r = archive[name], baseline[name], restored[name]
        same = a == b == r
        if not same:
            problems.append(f"{name}: archive {a}, after the baseline {b}, after the restore {r}")
        tables.append({"table": name, "rows": r["rows"], "sha256": r["sha256"], "identical": same,
                       "fingerprintStart": start[name], "fingerprintEnd": end[name]})
        if start[name] != end[name]:
            problems.append(f"{name}: all tenants' rows at the start {start[name]}, at the end {end[name]}")
    result = {"tables": tables, "problems": problems, "ok": not problems}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    for p in problems:
        print(f"verify: {p}", file=sys.stderr)
    print(f"verify: {'identical' if not problems else 'DIFFERENT'} ({len(tables)} tables)", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("table-list")
    s.add_argument("schema")
    s.set_defaults(fn=cmd_table_list)
    s = sub.add_parser("copy-files")
    s.add_argument("archive")
    s.add_argument("dir")
    s.set_defaults(fn=cmd_copy_files)
    s = sub.add_parser("copy-script")
    s.add_argument("schema")
    s.add_argument("dir")
    s.set_defaults(fn=cmd_copy_script)
    s = sub.add_parser("delete-script")
    s.add_argument("schema")
    s.add_argument("tenant")
    s.add_argument("--root", action="store_true")
    s.set_defaults(fn=cmd_delete_script)
    s = sub.add_parser("statements")
    s.add_argument("--log", required=True)
    s.add_argument("--from", dest="from_", type=int, required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_statements)
    s = sub.add_parser("statements-summary")
    s.add_argument("file")
    s.set_defaults(fn=cmd_statements_summary)
    s = sub.add_parser("result-summary")
    s.add_argument("result")
    s.add_argument("--safety")
    s.set_defaults(fn=cmd_result_summary)
    s = sub.add_parser("merge-json")
    s.add_argument("a")
    s.add_argument("b")
    s.set_defaults(fn=cmd_merge_json)
    for name, fn in (("fingerprint", cmd_fingerprint), ("tenant-hashes", cmd_tenant_hashes)):
        s = sub.add_parser(name)
        s.add_argument("--port", required=True)
        s.add_argument("--dbname", required=True)
        s.add_argument("--schema", required=True)
        s.add_argument("--out", required=True)
        if name == "tenant-hashes":
            s.add_argument("--tenant", required=True)
        s.set_defaults(fn=fn)
    s = sub.add_parser("archive-hashes")
    s.add_argument("dir")
    s.add_argument("--schema", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_archive_hashes)
    s = sub.add_parser("verify")
    s.add_argument("--check-dir", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_verify)
    s = sub.add_parser("report")
    s.set_defaults(fn=None)
    args, rest = p.parse_known_args()
    if args.cmd == "report":
        import restore_report
        restore_report.main(rest)
        return
    if rest:
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    args.fn(args)


if __name__ == "__main__":
    main()
