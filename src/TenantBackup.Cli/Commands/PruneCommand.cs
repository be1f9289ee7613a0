using System.CommandLine;
using System.CommandLine.Parsing;
using TenantBackup.Cli.Output;
using TenantBackup.Engine;
using TenantBackup.Engine.Repository;

namespace TenantBackup.Cli.Commands;

/// <summary>
/// <c>tenantbackup prune</c>: removes the backups named by id, or those a retention policy lets go, per tenant (what
/// <c>Remove-TenantBackup</c> does with <c>-Id</c> or a policy). <c>--dry-run</c> lists the same decisions and changes nothing.
/// </summary>
internal sealed class PruneCommand : Command
{
    // Whole ids, matched without regard to case, as restore and verify take them: a prefix could name a backup by mistake.
    private readonly Argument<string[]> _ids = new("id")
    {
        Description = "Ids of the backups to remove, instead of a policy (the newest valid backup of a tenant only with --force).",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private readonly Option<string> _repository = SharedOptions.Repository();

    private readonly Option<string> _tenant = new("--tenant")
    {
        Description = "Apply the policy to this tenant's backups only (default: every tenant, each on its own).",
        HelpName = "V",
    };

    private readonly Option<int?> _keepLast = Count("--keep-last", "Keep the N newest backups.");

    private readonly Option<int?> _keepDaily =
        Count("--keep-daily", "Keep the newest backup of each of the N most recent UTC days with backups.");

    private readonly Option<int?> _keepWeekly =
        Count("--keep-weekly", "Keep the newest backup of each of the N most recent ISO weeks with backups.");

    private readonly Option<int?> _keepMonthly =
        Count("--keep-monthly", "Keep the newest backup of each of the N most recent months with backups.");

    private readonly Option<TimeSpan?> _olderThan = new("--older-than")
    {
        Description = $"Remove only backups older than this ({Durations.Forms}); alone, remove every backup older than this.",
        HelpName = "DURATION",
        CustomParser = ParseAge,
    };

    private readonly Option<bool> _force = new("--force")
    {
        Description = "Also remove a tenant's newest valid backup when the rules let it go.",
    };

    private readonly Option<bool> _dryRun = new("--dry-run")
    {
        Description = "List what would be removed and kept, and why; change nothing.",
    };

    private readonly Option<bool> _json = SharedOptions.Json();

    /// <summary>Creates the command with its options and action.</summary>
    public PruneCommand()
        : base(
            "prune",
            "Remove backups by id, or old backups by a retention policy; the newest valid backup of each tenant stays unless --force.")
    {
        Add(_ids);
        Option[] options = [_repository, _tenant, _keepLast, _keepDaily, _keepWeekly, _keepMonthly, _olderThan, _force, _dryRun, _json];
        foreach (var option in options)
        {
            Add(option);
        }

        SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(
            parseResult,
            cancellationToken,
            (stdout, stderr) => RunAsync(parseResult, stdout, stderr, cancellationToken)));
    }

    /// <summary>The engine request of a parsed command line.</summary>
    /// <exception cref="Engine.TenantBackupException">
    /// <c>InvalidArgument</c> when neither ids nor a rule are given, or ids with a rule or with <c>--tenant</c>.
    /// </exception>
    internal PruneRequest BuildRequest(ParseResult parseResult)
    {
        var ids = parseResult.GetValue(_ids) ?? [];
        var policy = new RetentionPolicy
        {
            KeepLast = parseResult.GetValue(_keepLast),
            KeepDaily = parseResult.GetValue(_keepDaily),
            KeepWeekly = parseResult.GetValue(_keepWeekly),
            KeepMonthly = parseResult.GetValue(_keepMonthly),
            OlderThan = parseResult.GetValue(_olderThan),
        };
        var tenant = parseResult.GetValue(_tenant);
        if (ids.Length > 0 && tenant is not null)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument, "--tenant selects the backups a policy applies to; it cannot be combined with ids.", "--tenant");
        }

        var anyRule = policy is { KeepLast: not null } or { KeepDaily: not null } or { KeepWeekly: not null }
            or { KeepMonthly: not null } or { OlderThan: not null };
        var request = new PruneRequest
        {
            Repository = parseResult.GetValue(_repository) is { } given ? Path.GetFullPath(given) : null,
            Tenant = tenant,
            Ids = ids,
            Force = parseResult.GetValue(_force),

            // Ids with a rule keep the rule, so that the request's own check refuses the two together.
            Policy = ids.Length > 0 && !anyRule ? null : policy,
        };
        request.Validate();
        return request;
    }

    private async Task<int> RunAsync(ParseResult parseResult, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var request = BuildRequest(parseResult);
        var dryRun = parseResult.GetValue(_dryRun);
        var log = SharedOptions.Log(verbose: false, stderr);
        var decisions = dryRun
            ? Pruner.Plan(request)
            : await Pruner.PruneAsync(request, approved: null, cancellationToken, log: log).ConfigureAwait(false);

        foreach (var decision in decisions.Where(d => d.Error is not null))
        {
            var label = decision.Removed ? "warning" : "error IOError";
            await stderr.WriteLineAsync($"tenantbackup: {label}: {decision.Error}").ConfigureAwait(false);
        }

        if (parseResult.GetValue(_json))
        {
            await JsonOutput.WriteAsync(stdout, decisions).ConfigureAwait(false);
        }
        else
        {
            await stdout.WriteLineAsync(TextOutput.Prune(decisions, dryRun)).ConfigureAwait(false);
        }

        var failed = !dryRun && decisions.Any(d => d.Action == PruneAction.Remove && !d.Removed);
        return failed ? ExitCodes.Failure : ExitCodes.Success;
    }

    private static Option<int?> Count(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "N",
        Validators = { RequireNonNegative },
    };

    private static void RequireNonNegative(OptionResult result)
    {
        if (result.GetValueOrDefault<int?>() is < 0)
        {
            result.AddError($"{result.Option.Name} must be 0 or more.");
        }
    }

    private static TimeSpan? ParseAge(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;
        if (Durations.TryParse(text, out var value))
        {
            return value;
        }

        result.AddError($"'{text}' is not a duration: give {Durations.Forms}.");
        return null;
    }
}
