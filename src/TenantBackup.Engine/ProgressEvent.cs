namespace TenantBackup.Engine;

/// <summary>A step of a running operation, for progress bars, stderr and JSON-lines logs.</summary>
/// <param name="Phase">What is being done (<c>scope</c>, <c>export</c>, <c>finish</c>...).</param>
/// <param name="Table">The table being worked on, as <c>schema.table</c>, if any.</param>
/// <param name="TablesDone">Tables finished so far.</param>
/// <param name="TablesTotal">Tables in all.</param>
/// <param name="RowsDone">Rows done so far in the whole operation.</param>
/// <param name="BytesDone">Uncompressed bytes done so far in the whole operation.</param>
public sealed record ProgressEvent(string Phase, string? Table, int TablesDone, int TablesTotal, long RowsDone, long BytesDone);
