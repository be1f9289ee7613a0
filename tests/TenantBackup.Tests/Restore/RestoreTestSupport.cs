using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Repository;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>
/// What the restore tests share: a tenant database, a temp repository, backups and restores against them, and the
/// folders and databases a test adds, all dropped at the end.
/// </summary>
internal sealed class RestoreScratch : IAsyncDisposable
{
    private readonly PostgresFixture _fixture;
    private readonly List<string> _databases = [];
    private readonly List<string> _folders = [];

    private RestoreScratch(PostgresFixture fixture, string database)
    {
        _fixture = fixture;
        Database = database;
        _databases.Add(database);
        Repository = Folder("tb-restore-repo-");
    }

    public string Database { get; }

    public string Repository { get; }

    public string ConnectionString => _fixture.ConnectionStringFor(Database);

    public string IndexPath => Path.Combine(Repository, BackupRepository.IndexFileName);

    public static async Task<RestoreScratch> CreateAsync(PostgresFixture fixture)
        => new(fixture, await fixture.CreateTenantDatabaseAsync());

    /// <summary>A new temp folder, deleted with the scratch.</summary>
    public string Folder(string prefix = "tb-restore-")
    {
        var folder = Directory.CreateTempSubdirectory(prefix).FullName;
        _folders.Add(folder);
        return folder;
    }

    /// <summary>Another copy of the tenant database (or of <paramref name="template"/>), dropped with the scratch.</summary>
    public async Task<string> CreateDatabaseAsync(string? template = null)
    {
        var database = template is null ? await _fixture.CreateTenantDatabaseAsync() : await _fixture.CreateDatabaseAsync(template);
        _databases.Add(database);
        return database;
    }

    public string ConnectionStringFor(string database) => _fixture.ConnectionStringFor(database);

    public Task<NpgsqlConnection> OpenAsync(string? database = null) => _fixture.OpenConnectionAsync(database ?? Database);

    public Task<BackupInfo> BackupAsync(
        int tenant, IReadOnlyList<string>? includePaths = null, Compression compression = Compression.Zstd) =>
        new BackupEngine().BackupAsync(
            new BackupRequest
            {
                ConnectionString = ConnectionString,
                Tenant = tenant.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Repository = Repository,
                IncludePaths = includePaths ?? [],
                Compression = compression,
                CompressionExplicit = true,
            },
            null,
            CancellationToken.None);

    /// <summary>A restore of <paramref name="backup"/> into this scratch's database, everything else at its default.</summary>
    public RestoreRequest Request(BackupInfo backup) => Request(backup.Id);

    public RestoreRequest Request(string backupId) => new()
    {
        ConnectionString = ConnectionString,
        BackupId = backupId,
        Repository = Repository,
    };

    public static Task<RestoreResult> RestoreAsync(RestoreRequest request) =>
        new RestoreEngine().RestoreAsync(request, null, CancellationToken.None);

    public static Task<RestorePlan> PlanAsync(RestoreRequest request) =>
        new RestoreEngine().PlanAsync(request, null, CancellationToken.None);

    public static async Task<TenantBackupException> RestoreFailsAsync(RestoreRequest request) =>
        await Assert.ThrowsAsync<TenantBackupException>(() => new RestoreEngine().RestoreAsync(request, null, CancellationToken.None));

    public async Task ExecAsync(string sql, string? database = null)
    {
        await using var connection = await OpenAsync(database);
        await Sql.ExecAsync(connection, sql);
    }

    /// <summary>The index file's bytes (null when there is none), for "the index did not change" checks.</summary>
    public byte[]? IndexBytes() => File.Exists(IndexPath) ? File.ReadAllBytes(IndexPath) : null;

    /// <summary>The repository's files, by name, without the index lock file.</summary>
    public IReadOnlyList<string> RepositoryFiles() =>
        Directory.GetFiles(Repository)
            .Select(f => Path.GetFileName(f)!)
            .Where(n => n != "backups.json.lock")
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The restore history of <paramref name="backupId"/> in <c>backups.json</c>, read as plain JSON.</summary>
    public IReadOnlyList<JsonElement> Restores(string backupId)
    {
        using var index = JsonDocument.Parse(File.ReadAllBytes(IndexPath));
        var entry = index.RootElement.GetProperty("backups").EnumerateArray().Single(e => e.GetProperty("id").GetString() == backupId);
        return entry.TryGetProperty("restores", out var restores) ? restores.EnumerateArray().Select(r => r.Clone()).ToList() : [];
    }

    /// <summary>Everything a refused restore must leave as it was: every row, the index bytes and the repository's files.</summary>
    public async Task<State> StateAsync(string? database = null)
    {
        await using var connection = await OpenAsync(database);
        return new State(await TableDump.SnapshotAsync(connection), IndexBytes(), RepositoryFiles());
    }

    public async Task AssertUnchangedAsync(State before, string? database = null)
    {
        var after = await StateAsync(database);
        Assert.True(
            TableDump.Fingerprint(before.Rows) == TableDump.Fingerprint(after.Rows),
            "The database changed:\n" + TableDump.DescribeDifferences(before.Rows, after.Rows));
        Assert.Equal(before.Files, after.Files);
        Assert.True(
            before.Index is null ? after.Index is null : after.Index is not null && before.Index.AsSpan().SequenceEqual(after.Index),
            "backups.json changed");
        await AssertNoAdvisoryLocksAsync(database);
    }

    /// <summary>A restore that ended must not leave its tenant lock behind (e.g. on a pooled connection).</summary>
    public async Task AssertNoAdvisoryLocksAsync(string? database = null)
    {
        await using var connection = await OpenAsync(database);
        var locks = await Sql.ScalarAsync<string>(connection, """
            SELECT coalesce(string_agg(format('%s pid %s', mode, pid), ', '), '')
            FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """);
        Assert.True(locks.Length == 0, "Advisory locks left: " + locks);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await _fixture.DropDatabaseAsync(database);
        }

        foreach (var folder in _folders.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public sealed record State(IReadOnlyDictionary<string, IReadOnlyList<string>> Rows, byte[]? Index, IReadOnlyList<string> Files);
}

/// <summary>Small SQL helpers for set-up and checks.</summary>
internal static class Sql
{
    public static async Task<int> ExecAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }

    public static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The rows of any query as COPY text lines, sorted ordinally.</summary>
    public static async Task<IReadOnlyList<string>> LinesAsync(NpgsqlConnection connection, string query)
    {
        var rows = new List<string>();
        using (var reader = await connection.BeginTextExportAsync($"COPY ({query}) TO STDOUT"))
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                rows.Add(line);
            }
        }

        rows.Sort(StringComparer.Ordinal);
        return rows;
    }
}

/// <summary>Rows of one tenant, of everyone else, and a tenant's content seen through its foreign keys rather than its ids.</summary>
internal static class TenantData
{
    /// <summary>Every row of <paramref name="tenant"/> in every scoped table, keyed by table.</summary>
    public static async Task<Dictionary<string, IReadOnlyList<string>>> RowsAsync(NpgsqlConnection connection, int tenant)
    {
        var rows = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var table in TestSchema.ScopedTables)
        {
            rows[table] = await TableDump.RowsAsync(connection, table, TestSchema.TenantWhere(table, tenant));
        }

        return rows;
    }

    /// <summary>Rows of every scoped table that belong to none of <paramref name="tenants"/>, and every row of the shared tables.</summary>
    public static async Task<Dictionary<string, IReadOnlyList<string>>> RowsOutsideAsync(NpgsqlConnection connection, params int[] tenants)
    {
        var rows = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var table in TestSchema.ScopedTables)
        {
            var where = "NOT (" + string.Join(" OR ", tenants.Select(t => "(" + TestSchema.TenantWhere(table, t) + ")")) + ")";
            rows[table] = await TableDump.RowsAsync(connection, table, where);
        }

        foreach (var table in TestSchema.SharedTables)
        {
            rows[table] = await TableDump.RowsAsync(connection, table);
        }

        return rows;
    }

    /// <summary>
    /// The tenant's content without its surrogate keys: each row named by what it is and what its foreign keys lead to
    /// (customer name → project name → invoice number → line), so a clone compares equal to its source. The boolean
    /// columns say whether a referenced row belongs to the same tenant.
    /// </summary>
    public static async Task<Dictionary<string, IReadOnlyList<string>>> ShapeAsync(NpgsqlConnection connection, int tenant)
    {
        var shape = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (name, query) in ShapeQueries(tenant))
        {
            shape[name] = await Sql.LinesAsync(connection, query);
        }

        var counts = new List<string>();
        foreach (var table in TestSchema.ScopedTables)
        {
            var count = await Sql.ScalarAsync<long>(
                connection, $"SELECT count(*) FROM {TableDump.QuoteName(table)} WHERE {TestSchema.TenantWhere(table, tenant)}");
            counts.Add($"{table} {count}");
        }

        shape["counts"] = counts;
        return shape;
    }

    private static IEnumerable<(string Name, string Query)> ShapeQueries(int t)
    {
        yield return ("tenants", $"SELECT name, tier, plan_id, created_at FROM public.tenants WHERE id = {t}");
        yield return (
            "customers",
            $"SELECT name, email, country_code, balance, tags, settings, ip, notes FROM public.customers WHERE tenant_id = {t}");
        yield return ("projects", $"""
            SELECT c.name, c.tenant_id = p.tenant_id, p.name, p.budget, p.duration, p.starts_at, p.name_upper
            FROM public.projects p JOIN public.customers c ON c.id = p.customer_id WHERE p.tenant_id = {t}
            """);
        yield return ("invoices", $"""
            SELECT c.name, p.name, i.number, i.total, i.issued_at, i.pdf
            FROM public.invoices i JOIN public.projects p ON p.id = i.project_id JOIN public.customers c ON c.id = p.customer_id
            WHERE p.tenant_id = {t}
            """);
        yield return ("invoice_lines", $"""
            SELECT c.name, p.name, i.number, l.line_no, l.description, l.amount
            FROM public.invoice_lines l JOIN public.invoices i ON i.id = l.invoice_id JOIN public.projects p ON p.id = i.project_id
            JOIN public.customers c ON c.id = p.customer_id
            WHERE p.tenant_id = {t}
            """);
        yield return ("documents", $"""
            SELECT d.doc_no, d.title, d.body, parent.title
            FROM public.documents d LEFT JOIN public.documents parent ON parent.tenant_id = d.tenant_id AND parent.doc_no = d.parent_doc_no
            WHERE d.tenant_id = {t}
            """);
        yield return ("document_versions", $"""
            SELECT d.title, v.version, v.content
            FROM public.document_versions v JOIN public.documents d ON d.tenant_id = v.tenant_id AND d.doc_no = v.doc_no
            WHERE v.tenant_id = {t}
            """);
        yield return ("employees", $"""
            SELECT e.name, m.name, m.tenant_id = e.tenant_id
            FROM public.employees e LEFT JOIN public.employees m ON m.id = e.manager_id WHERE e.tenant_id = {t}
            """);
        yield return ("stores", $"""
            SELECT s.name, m.name, m.tenant_id = s.tenant_id, m.store_id = s.id
            FROM public.stores s LEFT JOIN public.staff m ON m.id = s.manager_staff_id WHERE s.tenant_id = {t}
            """);
        yield return ("staff", $"""
            SELECT f.name, s.name, s.tenant_id = f.tenant_id
            FROM public.staff f JOIN public.stores s ON s.id = f.store_id WHERE f.tenant_id = {t}
            """);
        yield return ("audit_log", $"SELECT at, action, detail FROM public.audit_log WHERE tenant_id = {t}");
        yield return ("events", $"SELECT id, occurred_at, kind, payload FROM public.events WHERE tenant_id = {t}");
        yield return ("payment_methods", $"""SELECT "Card Holder", "Last4" FROM billing."Payment Methods" WHERE tenant_id = {t}""");
        yield return ("charges", $"""
            SELECT pm."Card Holder", pm."Last4", ch.amount, ch.note
            FROM billing."Charges" ch JOIN billing."Payment Methods" pm ON pm."Id" = ch."Payment Method Id" WHERE pm.tenant_id = {t}
            """);
    }

    /// <summary>Fails with the first differing table and rows when two per-table row sets differ.</summary>
    public static void AssertEqual(
        IReadOnlyDictionary<string, IReadOnlyList<string>> expected, IReadOnlyDictionary<string, IReadOnlyList<string>> actual, string what)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        var differences = TableDump.DescribeDifferences(expected, actual);
        Assert.True(differences.Length == 0, $"{what}: expected (-) and actual (+) differ:\n{differences}");
    }

    /// <summary>Rows per table: <paramref name="rows"/> with <paramref name="extra"/> added, sorted ordinally.</summary>
    public static Dictionary<string, IReadOnlyList<string>> Plus(
        IReadOnlyDictionary<string, IReadOnlyList<string>> rows, IReadOnlyDictionary<string, List<string>> extra) =>
        rows.ToDictionary(
            e => e.Key,
            e => (IReadOnlyList<string>)e.Value.Concat(extra.GetValueOrDefault(e.Key) ?? []).Order(StringComparer.Ordinal).ToList(),
            StringComparer.Ordinal);
}

/// <summary>
/// A mix of deletions, insertions and updates to one tenant's rows in most scoped tables, made after a backup; records
/// the deleted rows (as they were, i.e. as backed up) and the added rows, so each restore mode's outcome can be predicted.
/// </summary>
/// <remarks>Deletions come first, then insertions, then updates; no updated row is one deleted or added.</remarks>
internal sealed class TenantChanges
{
    public Dictionary<string, List<string>> Deleted { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<string>> Added { get; } = new(StringComparer.Ordinal);

    /// <summary>Tenant 1–3 all have the rows this touches.</summary>
    public static async Task<TenantChanges> ApplyAsync(NpgsqlConnection c, int t)
    {
        var changes = new TenantChanges();

        // The tenant's last project with its invoices and their lines: three levels, the lowest indirect.
        var lastProject = await Sql.ScalarAsync<long>(c, $"SELECT max(id) FROM public.projects WHERE tenant_id = {t}");
        await changes.DeleteAsync(
            c, "public.invoice_lines", $"invoice_id IN (SELECT id FROM public.invoices WHERE project_id = {lastProject})");
        await changes.DeleteAsync(c, "public.invoices", $"project_id = {lastProject}");
        await changes.DeleteAsync(c, "public.projects", $"id = {lastProject}");
        await changes.DeleteAsync(c, "public.customers", $"tenant_id = {t} AND name = 'Customer {t}-3'");
        await changes.DeleteAsync(
            c, "public.invoice_lines", $"line_no = 2 AND invoice_id = (SELECT id FROM public.invoices WHERE number = 'INV-{t}-0001')");
        var leafDocument = await Sql.ScalarAsync<int>(c, $"""
            SELECT max(d.doc_no) FROM public.documents d WHERE d.tenant_id = {t}
              AND NOT EXISTS (SELECT 1 FROM public.documents k WHERE k.tenant_id = d.tenant_id AND k.parent_doc_no = d.doc_no)
            """);
        await changes.DeleteAsync(c, "public.document_versions", $"tenant_id = {t} AND doc_no = {leafDocument}");
        await changes.DeleteAsync(c, "public.documents", $"tenant_id = {t} AND doc_no = {leafDocument}");
        var employees = TestSchema.RowCount("public.employees", t);
        await changes.DeleteAsync(c, "public.employees", $"tenant_id = {t} AND name = 'Employee {t}-{employees - 1}'");
        await changes.DeleteAsync(c, "public.staff", $"tenant_id = {t} AND name = 'Staff {t}-1-3'");
        await changes.DeleteAsync(c, "public.audit_log", $"tenant_id = {t} AND action = 'delete'");
        await changes.DeleteAsync(c, "public.events", $"tenant_id = {t} AND id = 3");
        const string method2 =
            """(SELECT "Id" FROM billing."Payment Methods" WHERE tenant_id = {0} AND "Card Holder" = 'O''Brien "Jr."')""";
        await changes.DeleteAsync(c, "billing.Charges", $"\"Payment Method Id\" = {string.Format(null, method2, t)}");
        await changes.DeleteAsync(c, "billing.Payment Methods", $"\"Id\" = {string.Format(null, method2, t)}");

        await changes.AddAsync(
            c,
            "public.customers",
            $"INSERT INTO public.customers (tenant_id, name, notes) VALUES ({t}, 'Customer added {t}', 'new')",
            $"tenant_id = {t} AND name = 'Customer added {t}'");
        await changes.AddAsync(c, "public.projects", $"""
            INSERT INTO public.projects (tenant_id, customer_id, name)
            SELECT {t}, id, 'Project added {t}' FROM public.customers WHERE tenant_id = {t} AND name = 'Customer {t}-1'
            """, $"tenant_id = {t} AND name = 'Project added {t}'");
        await changes.AddAsync(c, "public.invoices", $"""
            INSERT INTO public.invoices (id, project_id, number, total)
            SELECT gen_random_uuid(), id, 'INV-added-{t}', 1.50 FROM public.projects WHERE tenant_id = {t} AND name = 'Project added {t}'
            """, $"number = 'INV-added-{t}'");
        await changes.AddAsync(c, "public.invoice_lines", $"""
            INSERT INTO public.invoice_lines (invoice_id, line_no, description, amount)
            SELECT id, 1, 'added line', 1.50 FROM public.invoices WHERE number = 'INV-added-{t}'
            UNION ALL SELECT id, 9, 'added to an old invoice', 9 FROM public.invoices WHERE number = 'INV-{t}-0002'
            """, $"description IN ('added line', 'added to an old invoice') AND {TestSchema.TenantWhere("public.invoice_lines", t)}");
        await changes.AddAsync(c, "public.documents",
            $"INSERT INTO public.documents (tenant_id, doc_no, title, parent_doc_no) VALUES ({t}, 100, 'Added document', 1)",
            $"tenant_id = {t} AND doc_no = 100");
        await changes.AddAsync(c, "public.document_versions",
            $"INSERT INTO public.document_versions (tenant_id, doc_no, version, content) VALUES ({t}, 100, 1, 'added')",
            $"tenant_id = {t} AND doc_no = 100");
        await changes.AddAsync(c, "public.employees", $"""
            INSERT INTO public.employees (tenant_id, manager_id, name)
            SELECT {t}, id, 'Employee added {t}' FROM public.employees WHERE tenant_id = {t} AND name = 'Employee {t}-{employees}'
            """, $"tenant_id = {t} AND name = 'Employee added {t}'");
        await changes.AddAsync(c, "public.staff", $"""
            INSERT INTO public.staff (tenant_id, store_id, name)
            SELECT {t}, id, 'Staff added {t}' FROM public.stores WHERE tenant_id = {t} AND name = 'Store {t}-1'
            """, $"tenant_id = {t} AND name = 'Staff added {t}'");
        await changes.AddAsync(c, "public.audit_log",
            $"INSERT INTO public.audit_log (tenant_id, at, action, detail) VALUES ({t}, '2030-01-01 00:00:00+00', 'added', '{{\"k\": 1}}')",
            $"tenant_id = {t} AND action = 'added'");
        await changes.AddAsync(c, "public.events",
            $"INSERT INTO public.events (tenant_id, id, occurred_at, kind) VALUES ({t}, 1000, '2026-06-01 00:00:00+00', 'added')",
            $"tenant_id = {t} AND id = 1000");
        await changes.AddAsync(c, "billing.Payment Methods",
            $"INSERT INTO billing.\"Payment Methods\" (\"Id\", tenant_id, \"Card Holder\", \"Last4\") " +
            $"VALUES (gen_random_uuid(), {t}, 'Added holder', '9999')",
            $"tenant_id = {t} AND \"Card Holder\" = 'Added holder'");
        await changes.AddAsync(c, "billing.Charges", $"""
            INSERT INTO billing."Charges" ("Payment Method Id", amount, note)
            SELECT "Id", 12.34, 'added charge' FROM billing."Payment Methods" WHERE tenant_id = {t} AND "Card Holder" = 'Added holder'
            """, "note = 'added charge' AND \"Payment Method Id\" IN " +
            $"(SELECT \"Id\" FROM billing.\"Payment Methods\" WHERE tenant_id = {t})");

        await UpdateAsync(c, $"UPDATE public.tenants SET name = name || ' (renamed)', tier = 'free' WHERE id = {t}");
        await UpdateAsync(
            c,
            $"UPDATE public.customers SET notes = 'changed', balance = 1, tags = NULL WHERE tenant_id = {t} AND name = 'Customer {t}-2'");
        await UpdateAsync(
            c, $"UPDATE public.projects SET name = 'Project {t}-1 renamed', budget = 42 WHERE tenant_id = {t} AND name = 'Project {t}-1'");
        await UpdateAsync(c, $"UPDATE public.invoices SET total = 0.01, pdf = NULL WHERE number = 'INV-{t}-0001'");
        await UpdateAsync(c, $"""
            UPDATE public.invoice_lines SET description = 'changed', amount = 1000
            WHERE line_no = 1 AND invoice_id = (SELECT id FROM public.invoices WHERE number = 'INV-{t}-0002')
            """);
        await UpdateAsync(c, $"UPDATE public.documents SET title = 'changed', body = 'changed' WHERE tenant_id = {t} AND doc_no = 2");
        await UpdateAsync(
            c, $"UPDATE public.employees SET name = 'Employee {t}-3 promoted' WHERE tenant_id = {t} AND name = 'Employee {t}-3'");
        await UpdateAsync(c, $"UPDATE public.stores SET name = 'Store {t}-1 moved' WHERE tenant_id = {t} AND name = 'Store {t}-1'");
        await UpdateAsync(c, $"UPDATE public.events SET kind = 'modified', payload = NULL WHERE tenant_id = {t} AND id = 4");
        await UpdateAsync(
            c, $"""UPDATE billing."Payment Methods" SET "Last4" = '0000' WHERE tenant_id = {t} AND "Card Holder" = 'José Müller {t}'""");
        await UpdateAsync(c, $"""
            UPDATE billing."Charges" SET amount = amount + 1, note = 'changed' WHERE id = (SELECT min(ch.id) FROM billing."Charges" ch
                JOIN billing."Payment Methods" pm ON pm."Id" = ch."Payment Method Id"
                WHERE pm.tenant_id = {t} AND pm."Card Holder" = 'José Müller {t}')
            """);
        return changes;
    }

    private async Task DeleteAsync(NpgsqlConnection connection, string table, string where)
    {
        var rows = await TableDump.RowsAsync(connection, table, where);
        Assert.NotEmpty(rows);
        Assert.Equal(rows.Count, await Sql.ExecAsync(connection, $"DELETE FROM {TableDump.QuoteName(table)} WHERE {where}"));
        AddTo(Deleted, table, rows);
    }

    private async Task AddAsync(NpgsqlConnection connection, string table, string insert, string where)
    {
        var count = await Sql.ExecAsync(connection, insert);
        Assert.True(count > 0, insert);
        var rows = await TableDump.RowsAsync(connection, table, where);
        Assert.Equal(count, rows.Count);
        AddTo(Added, table, rows);
    }

    private static async Task UpdateAsync(NpgsqlConnection connection, string update) =>
        Assert.True(await Sql.ExecAsync(connection, update) > 0, update);

    private static void AddTo(Dictionary<string, List<string>> rows, string table, IEnumerable<string> more)
    {
        if (!rows.TryGetValue(table, out var list))
        {
            rows[table] = list = [];
        }

        list.AddRange(more);
    }
}

/// <summary>A folder's files as (relative path, SHA-256) lines, for "the folder holds exactly these files" checks.</summary>
internal static class FolderTree
{
    public static IReadOnlyList<string> Of(string folder) =>
        Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/') + " " +
                    Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];

    /// <summary>A tenant folder with files at three depths, in a parent of its own (so siblings can be checked).</summary>
    public static string Create(RestoreScratch scratch)
    {
        var folder = Path.Combine(scratch.Folder("tb-restore-files-"), "tenant-files");
        Directory.CreateDirectory(Path.Combine(folder, "uploads", "2026"));
        File.WriteAllText(Path.Combine(folder, "logo.txt"), "logo v1");
        File.WriteAllBytes(Path.Combine(folder, "uploads", "invoice é.pdf"), [0, 1, 2, 255]);
        File.WriteAllText(Path.Combine(folder, "uploads", "2026", "notes.txt"), "line one\nline two\n");
        return folder;
    }

    /// <summary>Changes one file, deletes one and adds one.</summary>
    public static void Change(string folder)
    {
        File.WriteAllText(Path.Combine(folder, "logo.txt"), "logo v2, longer than before");
        File.Delete(Path.Combine(folder, "uploads", "invoice é.pdf"));
        File.WriteAllText(Path.Combine(folder, "uploads", "added.txt"), "added after the backup");
    }

    /// <summary>Folders next to <paramref name="folder"/> whose name starts with its name and a dot (staging, kept old copies).</summary>
    public static IReadOnlyList<string> Siblings(string folder) =>
        Directory.GetFileSystemEntries(Path.GetDirectoryName(folder)!)
            .Where(f => Path.GetFileName(f).StartsWith(Path.GetFileName(folder) + ".", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
}
