#!/usr/bin/env python3
"""Helpers of bench/run.sh: psql scripts from an archive's schema.json, run records, the correctness check and the report.

Subcommands (each reads and writes only the files named on its command line):
  free-port                          print a free TCP port on 127.0.0.1
  schema-json ARCHIVE                print the archive's schema.json (tar entry 2)
  psql-script SCHEMA TENANT [--files DIR]
                                     a psql script running the tool's exact COPY queries in one REPEATABLE READ,
                                     READ ONLY transaction with the tenant setting set: to stdout (one stream), or
                                     with --files one file per table, DIR/NNNN.copy
  record ...                         append one timed run (GNU time -v output) to a JSON-lines file
  verify ...                         compare the tool's archive with the psql output, byte for byte
  meta ...                           facts of the run: machine, software, settings, data set
  report ...                         markdown report from the records, the verification and the run's facts
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tarfile


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value):
    return "'" + value.replace("'", "''") + "'"


def open_archive(path):
    """Streams the archive's tar through `zstd -dc` (or reads a plain .tar), yielding (member, fileobj)."""
    if path.endswith(".zst"):
        proc = subprocess.Popen(["zstd", "-dcq", path], stdout=subprocess.PIPE)
        stream = proc.stdout
    else:
        proc = None
        stream = open(path, "rb")
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            yield member, tar.extractfile(member) if member.isfile() else None
    stream.close()
    if proc is not None and proc.wait() != 0:
        raise SystemExit(f"zstd -dc {path} failed")


def cmd_free_port(_):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def cmd_schema_json(args):
    for member, data in open_archive(args.archive):
        if member.name == "schema.json":
            sys.stdout.write(data.read().decode("utf-8"))
            return
    raise SystemExit(f"{args.archive} has no schema.json")


def copy_queries(schema_path):
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    for table in sorted(schema["tables"], key=lambda t: t["ordinal"]):
        columns = ", ".join("t0." + quote_ident(c) for c in table["dataColumns"])
        source = f"{quote_ident(table['schema'])}.{quote_ident(table['name'])}"
        yield table, f"SELECT {columns} FROM {source} t0 WHERE {table['filter']}"


def cmd_psql_script(args):
    lines = [
        "\\set ON_ERROR_STOP on",
        # What the tool's snapshot does: one REPEATABLE READ, READ ONLY transaction, no row security, the tenant in
        # a transaction-local setting the filters read.
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;",
        "SET LOCAL row_security = off;",
        f"SELECT pg_catalog.set_config('tenantbackup.tenant', {quote_literal(args.tenant)}, true) \\gset",
    ]
    for table, query in copy_queries(args.schema):
        # \copy takes the rest of its line: the query must be one line (filters have no newlines).
        query = " ".join(query.split("\n"))
        target = "stdout" if args.files is None else quote_literal(os.path.join(args.files, f"{table['ordinal']:04d}.copy"))
        lines.append(f"\\copy ({query}) to {target}")
    lines.append("COMMIT;")
    print("\n".join(lines))


TIME_FIELDS = {
    "Elapsed (wall clock) time (h:mm:ss or m:ss)": "wall",
    "Maximum resident set size (kbytes)": "rss_kb",
    "User time (seconds)": "user",
    "System time (seconds)": "sys",
    "Percent of CPU this job got": "cpu_pct",
    "Exit status": "exit",
}


def parse_time_v(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.strip().rpartition(": ")
            if key not in TIME_FIELDS:
                continue
            name = TIME_FIELDS[key]
            if name == "wall":
                seconds = 0.0
                for part in value.split(":"):
                    seconds = seconds * 60 + float(part)
                out[name] = seconds
            elif name == "cpu_pct":
                out[name] = float(value.rstrip("%") or 0)
            elif name in ("user", "sys"):
                out[name] = float(value)
            else:
                out[name] = int(value)
    return out


def cmd_record(args):
    rec = {"case": args.case, "rep": args.rep, "load1": args.load, "warmup": args.rep == 0}
    rec.update(parse_time_v(args.time_file))
    if args.size:
        rec["size"] = path_size(args.size)
    if args.extra:
        rec.update(json.loads(args.extra))
    with open(args.results, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec) + "\n")
    print(f"{rec['case']:<24} rep {rec['rep']}: {rec['wall']:.2f} s wall, {rec['rss_kb'] / 1024:.0f} MB max RSS, "
          f"{rec['user'] + rec['sys']:.2f} s CPU, load {rec['load1']}", file=sys.stderr)


def path_size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)
    return os.path.getsize(path)


def sha256_stream(cmd_or_path):
    h = hashlib.sha256()
    n = 0
    newlines = 0
    if isinstance(cmd_or_path, list):
        proc = subprocess.Popen(cmd_or_path, stdout=subprocess.PIPE)
        stream = proc.stdout
    else:
        proc = None
        stream = open(cmd_or_path, "rb")
    while True:
        block = stream.read(1 << 20)
        if not block:
            break
        h.update(block)
        n += len(block)
        newlines += block.count(b"\n")
    stream.close()
    if proc is not None and proc.wait() != 0:
        raise SystemExit(f"{' '.join(cmd_or_path)} failed")
    return h.hexdigest(), n, newlines


def cmd_verify(args):
    """The tool's data chunks, concatenated per table in archive order, must be the psql bytes of that table."""
    per_table = {}
    order = []
    whole = hashlib.sha256()
    entry_hashes = {}
    manifest = None
    for member, data in open_archive(args.archive):
        if member.name == "manifest.json":
            manifest = json.load(data)
            continue
        body = data.read() if data else b""
        entry_hashes[member.name] = (hashlib.sha256(body).hexdigest(), len(body))
        m = re.match(r"data/(\d{4})-.*\.(\d{4})\.copy$", member.name)
        if not m:
            continue
        ordinal = int(m.group(1))
        if ordinal not in per_table:
            per_table[ordinal] = {"sha": hashlib.sha256(), "bytes": 0, "rows": 0, "chunks": 0}
            order.append(ordinal)
        t = per_table[ordinal]
        t["sha"].update(body)
        t["bytes"] += len(body)
        t["rows"] += body.count(b"\n")
        t["chunks"] += 1
        whole.update(body)

    with open(args.schema, encoding="utf-8") as f:
        tables = {t["ordinal"]: f"{t['schema']}.{t['name']}" for t in json.load(f)["tables"]}
    problems = []
    if manifest is None:
        problems.append("the archive has no manifest.json")
    else:
        for e in manifest["entries"]:
            got = entry_hashes.get(e["name"])
            if got != (e["sha256"], e["size"]):
                problems.append(f"entry {e['name']}: manifest says {e['size']} bytes {e['sha256'][:12]}, archive has {got}")
    rows = []
    for ordinal in sorted(tables):
        t = per_table.get(ordinal)
        sha, size, newlines = sha256_stream(os.path.join(args.tables_dir, f"{ordinal:04d}.copy"))
        manifest_rows = None
        if manifest is not None:
            manifest_rows = sum(e.get("rows") or 0 for e in manifest["entries"] if e.get("table") == tables[ordinal])
        same = t is not None and t["sha"].hexdigest() == sha and t["bytes"] == size
        if not same:
            problems.append(f"{tables[ordinal]}: archive {t and t['bytes']} bytes, psql {size} bytes, contents differ")
        if manifest_rows is not None and manifest_rows != newlines:
            problems.append(f"{tables[ordinal]}: manifest counts {manifest_rows} rows, psql output has {newlines}")
        rows.append({"ordinal": ordinal, "table": tables[ordinal], "bytes": size, "rows": newlines,
                     "chunks": t and t["chunks"], "sha256": sha, "identical": same, "manifestRows": manifest_rows})
    stream_sha, stream_bytes, _ = sha256_stream(["zstd", "-dcq", args.baseline_stream])
    stream_same = stream_sha == whole.hexdigest()
    if not stream_same:
        problems.append("the timed baseline's stream differs from the archive's data chunks concatenated")
    result = {"archive": os.path.basename(args.archive), "tables": rows, "baselineStreamBytes": stream_bytes,
              "baselineStreamIdentical": stream_same, "problems": problems, "ok": not problems}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    for p in problems:
        print(f"verify: {p}", file=sys.stderr)
    print(f"verify: {'identical' if not problems else 'DIFFERENT'} ({sum(r['bytes'] for r in rows)} bytes in {len(rows)} tables)",
          file=sys.stderr)


# ---------------------------------------------------------------------------------------------------------- report

CASES = [
    # (case, what it is, counts for the goal)
    ("tool", "`tenantbackup backup` tenant 1 (zstd -3, 2 workers)"),
    ("baseline", "`psql` `\\copy` same queries \\| `zstd -3 -T0`"),
    ("tool-small", "`tenantbackup backup` tenant 2 (10x smaller)"),
    ("baseline-small", "baseline for tenant 2"),
    ("tool-encrypted", "`tenantbackup backup --key-file` tenant 1 (zstd -3, AES-256-GCM)"),
    ("tool-tiny", "diag: `tenantbackup backup` tenant 7 (tiny: fixed cost)"),
    ("baseline-tiny", "diag: baseline for tenant 7 (tiny)"),
    ("tool-none", "diag: `tenantbackup backup --compression none` tenant 1"),
    ("psql-file", "diag: `psql` `\\copy` same queries > file (no compression)"),
    ("psql-null", "diag: `psql` `\\copy` same queries > /dev/null"),
    ("tool-inline", "diag: tool, `DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1`"),
    ("tool-nospin", "diag: tool, `DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0`"),
    ("pg_dump-Fc", "context: `pg_dump -Fc` of the same tables, all tenants"),
    ("pg_dump-Fd-j2", "context: `pg_dump -Fd -j 2 -Z 1` of the same tables, all tenants"),
]


def fmt_s(x):
    return f"{x:.2f}"


def fmt_mb(nbytes):
    return f"{nbytes / 1e6:.1f}"


def cmd_report(args):
    with open(args.meta, encoding="utf-8") as f:
        meta = json.load(f)
    with open(args.verify, encoding="utf-8") as f:
        verify = json.load(f)
    records = []
    with open(args.results, encoding="utf-8") as f:
        for line in f:
            records.append(json.loads(line))
    measured = [r for r in records if not r["warmup"]]
    by_case = {}
    for r in measured:
        by_case.setdefault(r["case"], []).append(r)

    copy_bytes = meta["copyBytes"]
    copy_bytes_small = meta["copyBytesSmall"]

    def stats(case, key):
        vals = [r[key] for r in by_case.get(case, []) if key in r]
        return (statistics.median(vals), min(vals), max(vals)) if vals else None

    out = []
    w = out.append
    w("# Benchmarks")
    w("")
    w(f"Generated by `bench/run.sh` on {meta['date']}; every figure below was measured in that run "
      f"({meta['reps']} measured repetitions after one warm-up, cases interleaved and rotated each repetition).")
    w("")
    w("## Machine and software")
    w("")
    for k in ("cpu", "cores", "ram", "kernel", "postgres", "dotnet", "zstd", "loadBefore"):
        w(f"- {meta['labels'][k]}: {meta[k]}")
    w("")
    w("PostgreSQL settings of the throwaway cluster (everything else at initdb defaults, so `fsync = on`, "
      "`synchronous_commit = on`, `jit = on`, parallel query on):")
    w("")
    w("```")
    w(meta["settings"].rstrip())
    w("```")
    w("")
    w("## Data set")
    w("")
    w(meta["datasetText"])
    w("")
    w("| table | scope | rows (all tenants) | rows tenant 1 | rows tenant 2 | COPY bytes tenant 1 | bytes/row | heap+index size |")
    w("|---|---|---:|---:|---:|---:|---:|---:|")
    for t in meta["tables"]:
        w(f"| {t['table']} | {t['scope']} | {t['rows']:,} | {t['rowsBig']:,} | {t['rowsSmall']:,} | {t['copyBytesBig']:,} | "
          f"{t['copyBytesBig'] / max(t['rowsBig'], 1):.0f} | {t['size']} |")
    w("")
    w(f"Tenant 1 in total: **{meta['rowsBig']:,} rows, {copy_bytes / 1e6:.1f} MB of COPY text**; "
      f"tenant 2: {meta['rowsSmall']:,} rows, {copy_bytes_small / 1e6:.1f} MB.")
    w("")
    w("## Results")
    w("")
    w("Medians (min–max) over the measured repetitions. *Wall* and *max RSS* are from `/usr/bin/time -v`; for a pipeline "
      "(`psql | zstd`) max RSS is that of its largest process and CPU is the sum of both. CPU is the client side only "
      "(user+sys); the PostgreSQL backend's work is the same in every case but pg_dump's. Throughput is the COPY "
      "text bytes of the tenant backed up (tenant 1; tenant 2 in the rows for tenant 2) over the wall time.")
    w("")
    w("| case | wall s | max RSS MB | client CPU s | output MB | COPY MB/s |")
    w("|---|---:|---:|---:|---:|---:|")
    for case, label in CASES:
        if case not in by_case:
            continue
        wall = stats(case, "wall")
        rss = stats(case, "rss_kb")
        cpu = statistics.median([r["user"] + r["sys"] for r in by_case[case]])
        size = stats(case, "size")
        nbytes = copy_bytes_small if case.endswith("-small") else copy_bytes
        tput = "—" if case.startswith("pg_dump") or case.endswith("-tiny") else f"{nbytes / 1e6 / wall[0]:.0f}"
        size_text = "—" if size is None or case == "psql-null" else fmt_mb(size[0])
        w(f"| {label} | {fmt_s(wall[0])} ({fmt_s(wall[1])}–{fmt_s(wall[2])}) | {rss[0] / 1024:.0f} ({rss[1] / 1024:.0f}–{rss[2] / 1024:.0f}) "
          f"| {cpu:.2f} | {size_text} | {tput} |")
    w("")

    tool = {r["rep"]: r for r in by_case.get("tool", [])}
    base = {r["rep"]: r for r in by_case.get("baseline", [])}
    paired = [tool[k]["wall"] / base[k]["wall"] for k in sorted(tool) if k in base]
    ratio = stats("tool", "wall")[0] / stats("baseline", "wall")[0]
    rss_big = stats("tool", "rss_kb")[0] / 1024
    rss_small = stats("tool-small", "rss_kb")[0] / 1024
    size_ratio = stats("tool", "size")[0] / stats("baseline", "size")[0]
    goal_ratio = ratio <= 1.10
    goal_rss = rss_big < 200 and rss_small < 200
    flat = rss_big <= rss_small * 1.25 + 16
    w("### Against the goals")
    w("")
    small_note = ""
    if "baseline-small" in by_case:
        small_note = (f" (tenant 2: tool {stats('tool-small', 'wall')[0]:.2f} s, baseline {stats('baseline-small', 'wall')[0]:.2f} s, "
                      f"ratio {stats('tool-small', 'wall')[0] / stats('baseline-small', 'wall')[0]:.2f}: the fixed cost weighs more)")
    w("| goal | measured | |")
    w("|---|---|---|")
    w(f"| tool / baseline wall time ≤ 1.10 | **{ratio:.2f}** (median of tool ÷ median of baseline; per-repetition ratios "
      f"{', '.join(f'{p:.2f}' for p in paired)}){small_note} | {'met' if goal_ratio else '**missed**'} |")
    cpu_tool = statistics.median([r["user"] + r["sys"] for r in by_case["tool"]])
    cpu_base = statistics.median([r["user"] + r["sys"] for r in by_case["baseline"]])
    w(f"| (for the record) client CPU, tool / baseline | {cpu_tool:.2f} s / {cpu_base:.2f} s = **{cpu_tool / cpu_base:.2f}** | |")
    w(f"| peak RSS < 200 MB | tenant 1: {rss_big:.0f} MB, tenant 2: {rss_small:.0f} MB | {'met' if goal_rss else '**missed**'} |")
    w(f"| memory flat in tenant size | {rss_big:.0f} MB for {copy_bytes / copy_bytes_small:.0f}× the data of tenant 2 ({rss_small:.0f} MB) "
      f"| {'flat' if flat else '**grows**'} |")
    w(f"| archive size vs `zstd -3` of the same bytes | {stats('tool', 'size')[0] / 1e6:.1f} MB vs {stats('baseline', 'size')[0] / 1e6:.1f} MB "
      f"({size_ratio:.3f}×; the archive adds tar headers, JSON entries and the manifest) | |")
    if "tool-encrypted" in by_case:
        enc = stats("tool-encrypted", "wall")[0]
        cpu_enc = statistics.median([r["user"] + r["sys"] for r in by_case["tool-encrypted"]])
        w(f"| (for the record) encryption at rest, `--key-file` / plain | wall {enc:.2f} s / {stats('tool', 'wall')[0]:.2f} s = "
          f"**{enc / stats('tool', 'wall')[0]:.2f}**, client CPU {cpu_enc:.2f} s / {cpu_tool:.2f} s, "
          f"peak RSS {stats('tool-encrypted', 'rss_kb')[0] / 1024:.0f} MB | |")
    if not goal_ratio:
        w("")
        w("The wall-time goal is missed; the split below and, where present, the analysis at the end of this page say why.")
    w("")
    if "tool-tiny" in by_case and "baseline-tiny" in by_case:
        fixed_tool = stats("tool-tiny", "wall")[0]
        fixed_base = stats("baseline-tiny", "wall")[0]
        stream_tool = stats("tool", "wall")[0] - fixed_tool
        stream_base = stats("baseline", "wall")[0] - fixed_base
        w("### Fixed cost and streaming, separated")
        w("")
        w(f"A run for tenant 7 ({meta['rowsTiny']:,} rows) is almost all fixed cost: the tool takes {fixed_tool:.2f} s "
          f"(client CPU {statistics.median([r['user'] + r['sys'] for r in by_case['tool-tiny']]):.2f} s: runtime start, JIT, "
          f"connection, catalog and scope queries, archive completion, index update), the baseline {fixed_base:.2f} s. "
          f"Taking those off tenant 1's medians leaves the streaming part: tool {stream_tool:.2f} s, baseline {stream_base:.2f} s, "
          f"ratio **{stream_tool / stream_base:.2f}**. The tool's extra fixed cost is {fixed_tool - fixed_base:.2f} s; "
          f"tenant 1's medians differ by {stats('tool', 'wall')[0] - stats('baseline', 'wall')[0]:+.2f} s.")
        w("")
    w("### Correctness check")
    w("")
    if verify["ok"]:
        w(f"Identical: for each of the {len(verify['tables'])} tables, the archive's data chunks concatenated in order are byte for byte "
          f"the output of `\\copy` of that table's query in psql (SHA-256 compared), every chunk matches its manifest entry, "
          f"the manifest's row counts equal the newlines psql wrote, and the timed baseline's stream "
          f"({verify['baselineStreamBytes']:,} bytes after `zstd -d`) equals all data chunks concatenated.")
    else:
        w("**Differences found:**")
        w("")
        for p in verify["problems"]:
            w(f"- {p}")
    w("")
    w("| table | rows | bytes | chunks | identical |")
    w("|---|---:|---:|---:|---|")
    for t in verify["tables"]:
        w(f"| {t['table']} | {t['rows']:,} | {t['bytes']:,} | {t['chunks']} | {'yes' if t['identical'] else '**no**'} |")
    w("")
    w("### Every run")
    w("")
    w("Load average (1 min) read just before each run; repetition 0 is the warm-up, not in the figures above.")
    w("")
    w("| rep | case | wall s | max RSS MB | user s | sys s | CPU % | output MB | load |")
    w("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in records:
        w(f"| {r['rep']} | {r['case']} | {fmt_s(r['wall'])} | {r['rss_kb'] / 1024:.0f} | {r['user']:.2f} | {r['sys']:.2f} | "
          f"{r['cpu_pct']:.0f} | {'—' if 'size' not in r or r['case'] == 'psql-null' else fmt_mb(r['size'])} | {r['load1']} |")
    loads = [float(r["load1"]) for r in measured]
    w("")
    w(f"Load average during the measured runs: median {statistics.median(loads):.2f}, max {max(loads):.2f} "
      f"(2 cores; anything well above ~1 before a run means another process was using CPU).")
    w("")
    w("## Commands")
    w("")
    w("```sh")
    w(meta["invocation"])
    w("```")
    w("")
    w("What each case ran (`$CS` = `Host=127.0.0.1;Port=$PORT;Username=postgres;Database=tenantbench`):")
    w("")
    w("```sh")
    w(meta["commandsText"].rstrip())
    w("```")
    w("")
    w("`baseline.sql` is generated from the `schema.json` of the tool's own archive, so both run the same queries in the "
      "same kind of transaction (here for tenant 1):")
    w("")
    w("```")
    with open(meta["baselineScript"], encoding="utf-8") as f:
        w(f.read().rstrip())
    w("```")
    w("")
    w("pg_dump cannot filter rows: it dumps the same tables whole, for every tenant (about "
      f"{meta['wholeTablesFactor']:.1f}× tenant 1's rows), so its figures are context, not a baseline.")
    w("")
    if args.findings and os.path.exists(args.findings):
        with open(args.findings, encoding="utf-8") as f:
            w(f.read().rstrip())
        w("")
    text = "\n".join(out)
    # bench/restore.sh writes its own section into the same file: it stays, at the end, when this report is rewritten.
    kept = marked_section(args.output)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text + "\n" if not kept else text.rstrip("\n") + "\n\n" + kept + "\n")
    print(text)


RESTORE_BEGIN = "<!-- bench/restore.sh: begin -->"
RESTORE_END = "<!-- bench/restore.sh: end -->"


def marked_section(path):
    """The restore section of the report at path, markers included, or an empty string."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return ""
    start, end = text.find(RESTORE_BEGIN), text.find(RESTORE_END)
    return text[start:end + len(RESTORE_END)] if 0 <= start < end else ""


def psql_query(conn, sql):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", *conn, "-c", sql], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def archive_manifest(path):
    for member, data in open_archive(path):
        if member.name == "manifest.json":
            return json.load(data)
    raise SystemExit(f"{path} has no manifest.json")


def first_line(cmd):
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def machine_facts(conn):
    """The machine, the software and the cluster's non-default settings, with the labels the reports print."""
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    settings = psql_query(conn, "SELECT name || ' = ' || current_setting(name) FROM pg_settings "
                                "WHERE source NOT IN ('default', 'override') AND name NOT IN ('port', 'unix_socket_directories', "
                                "'listen_addresses', 'log_timezone', 'TimeZone', 'lc_messages', 'lc_monetary', 'lc_numeric', "
                                "'lc_time', 'default_text_search_config', 'DateStyle', 'dynamic_shared_memory_type', "
                                "'application_name', 'client_encoding', 'log_destination', 'logging_collector', 'log_directory', "
                                "'log_filename', 'log_min_messages') ORDER BY name")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu.group(1) if cpu else "unknown",
        "cores": os.cpu_count(),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": first_line(["uname", "-sr"]),
        "postgres": psql_query(conn, "SELECT version()")[0][0],
        "dotnet": f"SDK {first_line(['dotnet', '--version'])}; runtime "
                  + ", ".join(l for l in subprocess.run(['dotnet', '--list-runtimes'], capture_output=True, text=True).stdout.splitlines()
                              if l.startswith('Microsoft.NETCore.App')).replace(' [', ' (').replace(']', ')')
                  + " (the CLI targets net8.0 with RollForward=Major)",
        "zstd": first_line(["zstd", "--version"]).strip("* ").split(",")[0] + f"; libzstd {os.path.basename(os.path.realpath('/usr/lib/x86_64-linux-gnu/libzstd.so.1'))}",
        "labels": {"cpu": "CPU", "cores": "cores", "ram": "RAM", "kernel": "kernel", "postgres": "PostgreSQL", "dotnet": ".NET",
                   "zstd": "zstd", "loadBefore": "load average before the run (1, 5, 15 min)"},
        "settings": "\n".join(s[0] for s in settings),
    }


def cmd_meta(args):
    conn = ["-h", "127.0.0.1", "-p", str(args.port), "-U", "postgres", "-d", args.dbname]
    with open(args.verify, encoding="utf-8") as f:
        verify = json.load(f)
    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    small = archive_manifest(args.small_archive)
    small_rows = {}
    for e in small["entries"]:
        if e.get("table"):
            small_rows[e["table"]] = small_rows.get(e["table"], 0) + (e.get("rows") or 0)
    scope = {f"{t['schema']}.{t['name']}": t["scope"] for t in schema["tables"]}
    tables = []
    total_all = 0
    for t in verify["tables"]:
        schema_name, _, name = t["table"].partition(".")
        rel = f"{quote_ident(schema_name)}.{quote_ident(name)}"
        count, size = psql_query(conn, f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{rel}')) FROM {rel}")[0]
        total_all += int(count)
        tables.append({"table": t["table"], "scope": str(scope.get(t["table"], "")).lower(), "rows": int(count),
                       "rowsBig": t["rows"], "rowsSmall": small_rows.get(t["table"], 0), "copyBytesBig": t["bytes"], "size": size})
    rows_big = sum(t["rowsBig"] for t in tables)
    with open(args.commands_file, encoding="utf-8") as f:
        commands = f.read()
    meta = {
        **machine_facts(conn),
        "loadBefore": args.load_before,
        "datasetText": args.dataset_text,
        "tables": tables,
        "rowsBig": rows_big,
        "rowsSmall": sum(small_rows.values()),
        "rowsTiny": archive_manifest(args.tiny_archive)["totals"]["rows"] if args.tiny_archive else None,
        "copyBytes": sum(t["bytes"] for t in verify["tables"]),
        "copyBytesSmall": small["totals"]["bytes"],
        "reps": args.reps,
        "invocation": args.invocation,
        "commandsText": commands,
        "baselineScript": args.baseline_script,
        "wholeTablesFactor": total_all / max(rows_big, 1),
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("free-port").set_defaults(fn=cmd_free_port)
    s = sub.add_parser("schema-json")
    s.add_argument("archive")
    s.set_defaults(fn=cmd_schema_json)
    s = sub.add_parser("psql-script")
    s.add_argument("schema")
    s.add_argument("tenant")
    s.add_argument("--files")
    s.set_defaults(fn=cmd_psql_script)
    s = sub.add_parser("record")
    s.add_argument("--results", required=True)
    s.add_argument("--case", required=True)
    s.add_argument("--rep", type=int, required=True)
    s.add_argument("--load", required=True)
    s.add_argument("--time-file", required=True)
    s.add_argument("--size")
    s.add_argument("--extra")
    s.set_defaults(fn=cmd_record)
    s = sub.add_parser("verify")
    s.add_argument("--archive", required=True)
    s.add_argument("--schema", required=True)
    s.add_argument("--tables-dir", required=True)
    s.add_argument("--baseline-stream", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_verify)
    s = sub.add_parser("report")
    s.add_argument("--results", required=True)
    s.add_argument("--meta", required=True)
    s.add_argument("--verify", required=True)
    s.add_argument("--output", required=True)
    s.add_argument("--findings")
    s.set_defaults(fn=cmd_report)
    s = sub.add_parser("meta")
    s.add_argument("--port", required=True)
    s.add_argument("--dbname", required=True)
    s.add_argument("--verify", required=True)
    s.add_argument("--schema", required=True)
    s.add_argument("--small-archive", required=True)
    s.add_argument("--tiny-archive")
    s.add_argument("--reps", type=int, required=True)
    s.add_argument("--load-before", required=True)
    s.add_argument("--dataset-text", required=True)
    s.add_argument("--invocation", required=True)
    s.add_argument("--commands-file", required=True)
    s.add_argument("--baseline-script", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_meta)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
