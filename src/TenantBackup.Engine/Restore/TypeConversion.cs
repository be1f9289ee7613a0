using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

/// <summary>
/// Decides whether a column whose type changed since the backup can still take the archive's values. Restore loads the
/// archive's COPY text into temp tables typed like the target, so the real question is whether every text the old type
/// produces is accepted by the new type's input and keeps its meaning there. The answer is conservative on purpose: a
/// conversion that could fail half-way through a restore, or quietly change a value, is refused before anything changes,
/// so the operator fixes the schema instead of finding out from the rows.
/// </summary>
internal static partial class TypeConversion
{
    /// <summary>Whether the values load, and why: a clause that completes the schema difference's sentence.</summary>
    public sealed record Verdict(bool Safe, string Reason);

    /// <summary>What the target database knows about an (archive type, target type) pair; types are matched by their text.</summary>
    internal sealed record TypeFacts(
        bool ArchiveExists,
        bool SameType,
        string? ArchiveName,
        string? TargetName,
        bool ArchiveBuiltIn,
        bool TargetBuiltIn,
        bool TargetUnconstrained,
        bool ImplicitCast);

    // to_regtype ignores type modifiers, and returns NULL for a type the target no longer has (an enum dropped since the
    // backup). "Unconstrained" means the column has no length or precision limit: its text is format_type without one.
    private const string FactsSql = """
        SELECT a.oid IS NOT NULL,
               COALESCE(a.oid = t.oid, false),
               a.typname::text,
               t.typname::text,
               COALESCE(a.typnamespace = 'pg_catalog'::pg_catalog.regnamespace, false),
               COALESCE(t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace, false),
               COALESCE(pg_catalog.format_type(t.oid, -1) = p.target, false),
               EXISTS (SELECT 1 FROM pg_catalog.pg_cast c
                       WHERE c.castsource = a.oid AND c.casttarget = t.oid AND c.castcontext = 'i')
        FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(archive, target, ord)
        LEFT JOIN pg_catalog.pg_type a ON a.oid = pg_catalog.to_regtype(p.archive)
        LEFT JOIN pg_catalog.pg_type t ON t.oid = pg_catalog.to_regtype(p.target)
        ORDER BY p.ord
        """;

    /// <summary>Judges every distinct (archive type, target type) pair with one catalog query.</summary>
    public static async Task<IReadOnlyDictionary<(string Archive, string Target), Verdict>> JudgeAsync(
        NpgsqlConnection connection, IEnumerable<(string Archive, string Target)> changes, CancellationToken cancellationToken)
    {
        var pairs = changes.Distinct().ToList();
        if (pairs.Count == 0)
        {
            return new Dictionary<(string, string), Verdict>();
        }

        var elements = pairs.Select(p => Elements(p.Archive, p.Target)).ToList();
        var facts = await Db.QueryAsync(
            connection,
            FactsSql,
            r => new TypeFacts(
                r.GetBoolean(0),
                r.GetBoolean(1),
                r.IsDBNull(2) ? null : r.GetString(2),
                r.IsDBNull(3) ? null : r.GetString(3),
                r.GetBoolean(4),
                r.GetBoolean(5),
                r.GetBoolean(6),
                r.GetBoolean(7)),
            cancellationToken,
            Db.Param(elements.Select(e => e.Archive).ToArray()),
            Db.Param(elements.Select(e => e.Target).ToArray())).ConfigureAwait(false);
        return pairs.Select((p, i) => (p, Verdict: Decide(p.Archive, p.Target, facts[i])))
            .ToDictionary(x => x.p, x => x.Verdict);
    }

    /// <summary>
    /// The rules, in order; <paramref name="facts"/> describe the element types when both sides are arrays.
    /// Accepted:
    /// <list type="bullet">
    /// <item>a target of text, citext, or varchar/char without a length: any value's text is kept as it is, nothing is too
    /// long (an enum or integer turned into text restores its labels or digits);</item>
    /// <item>the same type with a wider limit (varchar(10) to varchar(20), numeric(12,2) to numeric(14,2) or to plain
    /// numeric, timestamp(3) to timestamp), and char/varchar with a length into char/varchar at least as long;</item>
    /// <item>an implicit cast between built-in types into a target without a limit: these are PostgreSQL's widening
    /// conversions (integer to bigint or numeric, date to timestamp, timestamp to timestamptz, cidr to inet, real to
    /// double precision), whose input reads the old type's text as the same value (a timestamp is placed in the
    /// session's time zone, as <c>ALTER COLUMN ... TYPE</c> would); arrays of such types as well.</item>
    /// </list>
    /// Refused: assignment and explicit casts, because they are the narrowing ones (bigint to integer and text to
    /// varchar(n) fail on some values; numeric to integer fails on <c>2.50</c>; timestamptz to date or timestamp drops the
    /// time or the offset without a word); implicit casts that lose precision (bigint or numeric to double precision,
    /// integer to real) or that read numbers as object ids or truncate names (oid, reg*, name); a narrower limit; bit(n)
    /// to another length (bit input wants the exact length); types the target no longer has; user types and domains
    /// (a domain's CHECK may refuse values).
    /// </summary>
    internal static Verdict Decide(string archive, string target, TypeFacts facts)
    {
        var (a, t) = Elements(archive, target);
        if (IsUnconstrainedString(facts))
        {
            return new Verdict(true, IsArray(target) ? "every element is kept as text" : "every value is kept as text");
        }

        if (IsArray(a) != IsArray(t))
        {
            return new Verdict(false, "one is an array and the other is not");
        }

        var (archiveBase, archiveLimits) = Limits(a);
        var (targetBase, targetLimits) = Limits(t);
        if (string.Equals(archiveBase, targetBase, StringComparison.Ordinal))
        {
            return Widens(archiveBase, archiveLimits, targetLimits)
                ? new Verdict(true, "every value fits the new, wider limit")
                : new Verdict(false, $"values may not fit the narrower {target}");
        }

        if (!facts.ArchiveExists)
        {
            return new Verdict(false, $"the type {archive} no longer exists in the target database");
        }

        if (facts.SameType && facts.TargetUnconstrained)
        {
            return new Verdict(true, "every value fits the new type, which has no limit");
        }

        if (IsLimitedString(archiveBase) && IsLimitedString(targetBase) && Widens(targetBase, archiveLimits, targetLimits))
        {
            return new Verdict(true, "every value fits the new length");
        }

        if (facts.ImplicitCast && facts.ArchiveBuiltIn && facts.TargetBuiltIn && facts.TargetUnconstrained
            && !Lossy(facts.ArchiveName!, facts.TargetName!))
        {
            return new Verdict(true, $"every {archive} value is a valid {target} with the same meaning");
        }

        return new Verdict(false, $"not every {archive} value is a valid {target} with the same meaning");
    }

    /// <summary>Both sides' element types when both are arrays (format_type writes one <c>[]</c> whatever the dimensions).</summary>
    private static (string Archive, string Target) Elements(string archive, string target) =>
        IsArray(archive) && IsArray(target) ? (archive[..^2], target[..^2]) : (archive, target);

    private static bool IsArray(string type) => type.EndsWith("[]", StringComparison.Ordinal);

    private static bool IsUnconstrainedString(TypeFacts facts) =>
        facts.TargetUnconstrained
        && ((facts.TargetBuiltIn && facts.TargetName is "text" or "varchar" or "bpchar") || facts.TargetName == "citext");

    private static bool IsLimitedString(string typeBase) => typeBase is "character varying" or "character";

    /// <summary>
    /// Splits format_type text into the type without its modifiers and the modifiers: <c>numeric(12,2)</c> is
    /// (<c>numeric</c>, [12, 2]), <c>timestamp(3) with time zone</c> is (<c>timestamp with time zone</c>, [3]). A quoted
    /// name is left whole: its parentheses are part of the name.
    /// </summary>
    private static (string Base, int[] Limits) Limits(string type)
    {
        var match = ModifierPattern().Match(type);
        if (!match.Success)
        {
            return (type, []);
        }

        var limits = match.Groups["limit"].Captures.Select(c => int.Parse(c.Value, CultureInfo.InvariantCulture)).ToArray();
        return (match.Groups["head"].Value + match.Groups["tail"].Value, limits);
    }

    private static bool Widens(string typeBase, int[] archive, int[] target) => (archive.Length, target.Length) switch
    {
        _ when typeBase == "bit" => false,
        (_, 0) => true, // no limit in the target
        (1, 1) => target[0] >= archive[0],
        // numeric(precision, scale): as many digits after the point, and as many before it
        (2, 2) => target[1] >= archive[1] && target[0] - target[1] >= archive[0] - archive[1],
        _ => false,
    };

    private static bool Lossy(string archive, string target) => target switch
    {
        "oid" or "name" or "macaddr" => true,
        _ when target.StartsWith("reg", StringComparison.Ordinal) => true,
        "float8" => archive is not ("int2" or "int4" or "float4"),
        "float4" => archive is not "int2",
        _ => false,
    };

    [GeneratedRegex("""^(?<head>[^"(]*)\((?<limit>-?\d+)(?:,(?<limit>-?\d+))?\)(?<tail>[^"]*)$""", RegexOptions.CultureInvariant)]
    private static partial Regex ModifierPattern();
}
