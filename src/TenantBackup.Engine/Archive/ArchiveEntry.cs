namespace TenantBackup.Engine.Archive;

/// <summary>One entry of an archive being read. <see cref="Data"/> is valid until the reader moves on.</summary>
internal sealed class ArchiveEntry
{
    internal ArchiveEntry(string name, long size, DateTimeOffset modificationTime, Stream data)
    {
        Name = name;
        Size = size;
        ModificationTime = modificationTime;
        Data = data;
    }

    /// <summary>The entry's name, checked safe (relative, no <c>..</c>, forward slashes).</summary>
    public string Name { get; }

    /// <summary>The entry's size in bytes, as its header says.</summary>
    public long Size { get; }

    /// <summary>The entry's modification time, as its header says; restored tenant files keep it.</summary>
    public DateTimeOffset ModificationTime { get; }

    /// <summary>
    /// The entry's content, read-only and forward-only; reading past a truncation is an
    /// <see cref="ErrorCode.ArchiveCorrupt"/> error.
    /// </summary>
    public Stream Data { get; }
}
