namespace TenantBackup.Tests.Infrastructure;

/// <summary>
/// A multi-tenant schema with every hard case the engine must handle, plus deterministic data, and the facts about
/// that data that tests assert against. Table names are written <c>schema.table</c>, unquoted, exactly as
/// <see cref="TableDump"/> accepts them (e.g. <c>billing.Payment Methods</c>).
/// </summary>
/// <remarks>
/// Keys interleave the tenants (customer ids 1, 2, 3 belong to tenants 1, 2, 3), as in a shared database that grew
/// over time, so a restore into another database or tenant meets key collisions. Row i of a tenant means the
/// tenant's i-th row in key order, counting from 1. Key order is not always a valid insert order: each tenant's
/// employee 1 reports to its last employee (the head), and document 3 has the last document as its parent.
/// </remarks>
public static partial class TestSchema
{
    /// <summary>Tenants with rows in every scoped table (different counts each).</summary>
    public static IReadOnlyList<int> Tenants { get; } = [1, 2, 3];

    /// <summary>A tenant whose only row is its root row in <c>public.tenants</c>.</summary>
    public const int EmptyTenant = 4;

    /// <summary><see cref="Tenants"/> and <see cref="EmptyTenant"/>: every row of <c>public.tenants</c>.</summary>
    public static IReadOnlyList<int> AllTenants { get; } = [1, 2, 3, 4];

    /// <summary>The tenant column of every direct table.</summary>
    public const string TenantColumn = "tenant_id";

    /// <summary>The table the tenant column points at; one row per tenant.</summary>
    public const string RootTable = "public.tenants";

    /// <summary>Tables with the tenant column.</summary>
    public static IReadOnlyList<string> DirectTables { get; } =
    [
        "public.customers", "public.projects", "public.documents", "public.document_versions", "public.employees",
        "public.stores", "public.staff", "public.audit_log", "public.events", "billing.Payment Methods",
    ];

    /// <summary>Tables without the tenant column, in scope through foreign keys (invoice_lines two levels down).</summary>
    public static IReadOnlyList<string> IndirectTables { get; } = ["public.invoices", "public.invoice_lines", "billing.Charges"];

    /// <summary>
    /// Everything a tenant backup holds: the root table, the direct and the indirect tables. Listed parents first,
    /// except inside the stores/staff cycle.
    /// </summary>
    public static IReadOnlyList<string> ScopedTables { get; } =
    [
        "public.tenants", "public.customers", "public.projects", "public.invoices", "public.invoice_lines",
        "public.documents", "public.document_versions", "public.employees", "public.stores", "public.staff",
        "public.audit_log", "public.events", "billing.Payment Methods", "billing.Charges",
    ];

    /// <summary>Tables that belong to no tenant: never backed up, never purged.</summary>
    public static IReadOnlyList<string> SharedTables { get; } = ["public.countries", "public.plans"];

    /// <summary>The partitions of <c>public.events</c>; read through the parent, never on their own.</summary>
    public static IReadOnlyList<string> Partitions { get; } = ["public.events_2025", "public.events_2026"];

    /// <summary>A plain view (not data).</summary>
    public const string View = "public.customer_names";

    /// <summary>A materialized view (not data).</summary>
    public const string MaterializedView = "public.tenant_stats";

    /// <summary>The deferrable edge of the stores ↔ staff cycle.</summary>
    public const string CycleConstraint = "stores_manager_staff_fk";

    /// <summary>Stores managed by one of their own staff; the rest have no manager (per tenant: all stores but the last).</summary>
    public static IReadOnlyDictionary<int, int> ManagedStores { get; } = new Dictionary<int, int> { [1] = 3, [2] = 2, [3] = 1 };

    /// <summary>Rows per tenant in each scoped table; tenant 4 has one row in <c>public.tenants</c> and none elsewhere.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<int, int>> RowCounts { get; } =
        new Dictionary<string, IReadOnlyDictionary<int, int>>(StringComparer.Ordinal)
        {
            ["public.tenants"] = PerTenant(1, 1, 1, emptyTenant: 1),
            ["public.customers"] = PerTenant(50, 30, 10),
            ["public.projects"] = PerTenant(51, 30, 10),
            ["public.invoices"] = PerTenant(77, 45, 15),
            ["public.invoice_lines"] = PerTenant(155, 90, 30),
            ["public.documents"] = PerTenant(20, 12, 5),
            ["public.document_versions"] = PerTenant(41, 24, 11),
            ["public.employees"] = PerTenant(20, 12, 6),
            ["public.stores"] = PerTenant(4, 3, 2),
            ["public.staff"] = PerTenant(12, 9, 6),
            ["public.audit_log"] = PerTenant(30, 18, 6),
            ["public.events"] = PerTenant(40, 24, 10),
            ["billing.Payment Methods"] = PerTenant(4, 3, 2),
            ["billing.Charges"] = PerTenant(12, 9, 7),
        };

    /// <summary>Rows of <c>public.events</c> per tenant that land in <c>events_2025</c> (the rest are in <c>events_2026</c>).</summary>
    public static IReadOnlyDictionary<int, int> Events2025 { get; } = new Dictionary<int, int> { [1] = 20, [2] = 12, [3] = 5 };

    /// <summary>Rows in each shared table.</summary>
    public static IReadOnlyDictionary<string, int> SharedRowCounts { get; } =
        new Dictionary<string, int>(StringComparer.Ordinal) { ["public.countries"] = 10, ["public.plans"] = 4 };

    /// <summary>Rows of <paramref name="table"/> that belong to <paramref name="tenant"/> (0 for unknown tenants).</summary>
    public static int RowCount(string table, int tenant) =>
        RowCounts.TryGetValue(table, out var counts)
            ? counts.GetValueOrDefault(tenant)
            : throw new ArgumentException($"'{table}' is not a scoped table of the test schema.", nameof(table));

    /// <summary>Rows of every scoped table, summed over the tenant's tables.</summary>
    public static int TotalRows(int tenant) => RowCounts.Values.Sum(counts => counts.GetValueOrDefault(tenant));

    /// <summary>
    /// A WHERE condition (without <c>WHERE</c>) selecting <paramref name="tenant"/>'s rows of a scoped table, following
    /// the foreign keys for indirect tables; for <see cref="TableDump.RowsAsync"/>.
    /// </summary>
    public static string TenantWhere(string table, int tenant)
    {
        var t = tenant.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return table switch
        {
            "public.tenants" => $"id = {t}",
            "public.invoices" => $"project_id IN (SELECT id FROM public.projects WHERE tenant_id = {t})",
            "public.invoice_lines" =>
                $"invoice_id IN (SELECT i.id FROM public.invoices i JOIN public.projects p ON p.id = i.project_id WHERE p.tenant_id = {t})",
            "billing.Charges" => $"\"Payment Method Id\" IN (SELECT \"Id\" FROM billing.\"Payment Methods\" WHERE tenant_id = {t})",
            _ when DirectTables.Contains(table) => $"tenant_id = {t}",
            _ => throw new ArgumentException($"'{table}' is not a scoped table of the test schema.", nameof(table)),
        };
    }

    private static Dictionary<int, int> PerTenant(int first, int second, int third, int emptyTenant = 0) =>
        new() { [1] = first, [2] = second, [3] = third, [EmptyTenant] = emptyTenant };

    /// <summary>
    /// Values that break naive export/import code, exactly as the SQL stores them. Every tenant 1–3 holds each of
    /// them; where is said on each member ("customer i" = the tenant's i-th customer by id).
    /// </summary>
    public static class EdgeCases
    {
        /// <summary>
        /// <c>customers.notes</c> of customer i is <c>Notes[(i - 1) % 10]</c> (tenant 3 has exactly one of each).
        /// <c>documents.body</c> of document d is <c>Notes[(d - 1) % 10]</c>; some recur in billing.Charges.note and
        /// inside audit_log/events jsonb.
        /// Index 0 is SQL NULL, index 1 the empty string, index 8 the two characters <c>\N</c>.
        /// </summary>
        public static IReadOnlyList<string?> Notes { get; } =
        [
            null,
            "",
            "tab\there",
            "line one\nline two",
            "carriage\r\nreturn",
            "back\\slash C:\\temp\\",
            "it's \"quoted\"",
            "café 日本語 🎉",
            "\\N",
            "plain note",
        ];

        /// <summary>
        /// <c>customers.tags</c> of customer 1: a NULL element, the string "NULL", an empty string, quotes, commas, braces.
        /// </summary>
        public static IReadOnlyList<string?> Tags { get; } =
            ["vip", "with space", "with,comma", "with \"quote\"", null, "NULL", "", "back\\slash", "{braces}"];

        /// <summary><c>customers.settings</c> of customer 1 (jsonb, so compare semantically, not as text).</summary>
        public const string NestedJson =
            """
            {"theme": "dark", "greeting": "こんにちは 🎉",
                "nested": {"list": [1, 2.50, "three", null, true, {"é": "ü"}], "quote": "say \"hi\"",
                "path": "C:\\temp", "ctrl": "tab\tnew\nline"}}
            """;

        /// <summary>The <c>greeting</c> member of <see cref="NestedJson"/>.</summary>
        public const string JsonGreeting = "こんにちは 🎉";

        /// <summary><c>customers.ip</c> of customers 1–4 (customer 1 of tenant t: 192.0.2.1 for every tenant).</summary>
        public static IReadOnlyList<string> Addresses { get; } = ["192.0.2.1", "2001:db8::2", "10.20.0.0/16", "::ffff:198.51.100.7"];

        /// <summary><c>customers.balance</c> of customers 2–5 as text: the numeric(12,2) extremes, zero and NULL.</summary>
        public static IReadOnlyList<string?> Balances { get; } = ["9999999999.99", "-9999999999.99", "0.00", null];

        /// <summary><c>customers.email</c> (citext) of customer 2 of tenant t, with t in place of {0}.</summary>
        public const string UnicodeEmailFormat = "Ünïcode.{0}@Example.COM";

        /// <summary><c>projects.budget</c> (unconstrained numeric) of projects 1–4 as text.</summary>
        public static IReadOnlyList<string?> Budgets { get; } =
            ["12345678901234567890.123456789012345678901234567890", "-0.000000000000000000000000000001", "0", null];

        /// <summary><c>projects.duration</c> of projects 1–4 in PostgreSQL's default interval output style.</summary>
        public static IReadOnlyList<string> Durations { get; } =
            ["00:00:00", "-3 days -04:05:06", "1 year 2 mons 3 days 04:05:06.789", "-1 mons +2 days"];

        /// <summary><c>projects.starts_at</c> of projects 1–4, written with different UTC offsets.</summary>
        public static IReadOnlyList<DateTimeOffset> StartTimes { get; } =
        [
            new(2025, 3, 30, 1, 30, 0, TimeSpan.FromHours(1)),
            new(2025, 6, 15, 12, 0, 0, TimeSpan.FromHours(-7)),
            new DateTimeOffset(2025, 12, 31, 23, 59, 59, TimeSpan.FromHours(14)).AddTicks(9_999_990),
            new(1999, 12, 31, 23, 30, 0, new TimeSpan(5, 30, 0)),
        ];

        /// <summary><c>projects.name</c> of project 2 of tenant t, with t in place of {0}; name_upper is generated from it.</summary>
        public const string UnicodeProjectNameFormat = "Straße café 日本 {0}";

        /// <summary><c>invoices.pdf</c> of invoice 1 (by number, INV-t-0001): every byte value 0–255 in order.</summary>
        public static IReadOnlyList<byte> AllBytes { get; } = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();

        /// <summary><c>invoices.pdf</c> of invoice 2 (INV-t-0002) is an empty bytea; invoice 3's is NULL.</summary>
        public const int EmptyPdfInvoice = 2;

        /// <summary><c>invoice_lines.description</c> of line 1 of invoice 1.</summary>
        public const string LineDescription = "Beratung für Müller\t– 5 h\n\"inkl.\" Reise";

        /// <summary><c>documents.title</c> of document 2 of every tenant.</summary>
        public const string DocumentTitle = "Q3 \"Report\" – Ünïcode\\ 日本";

        /// <summary><c>events.occurred_at</c> of event 1 (in events_2025) and event 2 (exactly the lower bound of events_2026).</summary>
        public static IReadOnlyList<DateTimeOffset> PartitionBoundary { get; } =
        [
            new DateTimeOffset(2025, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_990),
            new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        ];
    }
}
