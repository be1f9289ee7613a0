using System.Text;
using TenantBackup.Engine.Integrity;

namespace TenantBackup.Cli.Output;

/// <summary>The text form of <c>tenantbackup verify</c>: one line per backup, then what failed, then a count.</summary>
internal static class IntegrityText
{
    /// <summary>Each result as <c>STATUS id tenant path</c>, its failed checks indented below it, and a summary line.</summary>
    public static string Format(IReadOnlyList<IntegrityResult> results)
    {
        if (results.Count == 0)
        {
            return "No backups to verify.";
        }

        var text = new StringBuilder();
        foreach (var result in results)
        {
            // A valid archive that failed its test restore is not "corrupt", but it is not fine either.
            var status = result.Passed ? "OK"
                : result.Status == IntegrityStatus.Valid ? "FAILED"
                : result.Status.ToString().ToUpperInvariant();
            text.Append(status.PadRight(11)).Append(result.Id ?? "-").Append("  tenant ").Append(result.Tenant ?? "?")
                .Append("  ").AppendLine(result.Path ?? "");
            foreach (var check in result.Checks.Where(c => c.Outcome == CheckOutcome.Failed))
            {
                text.Append("    ").Append(check.Name).Append(": ").AppendLine(check.Message);
            }

            // "OK" for an encrypted archive read without its key covers only its checksum; say so.
            if (result.Checks.FirstOrDefault(c => c.Name == IntegrityChecks.Decryption && c.Outcome == CheckOutcome.Skipped) is { } unread)
            {
                text.Append("    ").Append(unread.Name).Append(": ").Append(unread.Message)
                    .AppendLine(" Only the file checksum was checked.");
            }

            if (result.RestoreTest is not null)
            {
                text.Append("    restore-test: ").AppendLine(result.Checks.First(c => c.Name == IntegrityChecks.RestoreTest).Message);
            }
        }

        int failed = results.Count(r => !r.Passed);
        text.Append(failed == 0 ? $"{results.Count} backup(s) verified, all valid." : $"{failed} of {results.Count} backup(s) not valid.");
        return text.ToString();
    }
}
