using TenantBackup.Engine;
using TenantBackup.Engine.Archive;

namespace TenantBackup.Tests.Hostile;

/// <summary>A valid archive to start from: its file bytes and the tar stream inside its compression.</summary>
internal sealed record SeedArchive(string FileName, Compression Compression, byte[] File, byte[] Tar);

/// <summary>One mutated archive: what was done, to which layer, and the resulting file bytes.</summary>
internal sealed record Mutant(string Kind, string Layer, byte[] File)
{
    public string Label => $"{Kind} ({Layer})";
}

/// <summary>
/// Deterministic damage to archives. Byte-level damage goes either to the file as stored or to the tar stream inside
/// the compression (then compressed again, so the decompressor is satisfied and the tar, manifest and JSON checks are
/// what must catch it); structural damage always edits the tar stream.
/// </summary>
internal static class ArchiveMutator
{
    public const string PlainLayer = "plain .tar";
    public const string CompressedLayer = "zstd/gzip bytes";
    public const string TarLayer = "tar inside zstd/gzip";

    public static readonly string[] Kinds =
        ["bit flips", "truncation", "inserted bytes", "removed bytes", "entries reordered", "entry duplicated", "huge size field"];

    public static Mutant Mutate(SeedArchive seed, Random random)
    {
        string kind = Kinds[random.Next(Kinds.Length)];
        bool structural = kind is "entries reordered" or "entry duplicated" or "huge size field";
        bool onTar = structural || (seed.Compression != Compression.None && random.Next(2) == 0);
        if (!onTar)
        {
            return new Mutant(kind, seed.Compression == Compression.None ? PlainLayer : CompressedLayer, Bytes(kind, seed.File, random));
        }

        byte[] tar = structural ? Structure(kind, seed.Tar, random) : Bytes(kind, seed.Tar, random);
        return new Mutant(kind, seed.Compression == Compression.None ? PlainLayer : TarLayer, Compress(tar, seed.Compression));
    }

    public static byte[] Compress(byte[] tar, Compression compression)
    {
        if (compression == Compression.None)
        {
            return tar;
        }

        var output = new MemoryStream();
        using (Stream compressing = CompressionStreams.OpenWrite(output, compression, level: 1))
        {
            compressing.Write(tar);
        }

        return output.ToArray();
    }

    private static byte[] Bytes(string kind, byte[] original, Random random)
    {
        byte[] bytes = (byte[])original.Clone();
        int at = random.Next(bytes.Length);
        switch (kind)
        {
            case "bit flips":
                for (int flips = random.Next(1, 5); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case "truncation":
                return bytes[..at];
            case "inserted bytes":
                byte[] inserted = new byte[Span(random)];
                random.NextBytes(inserted);
                return [.. bytes.AsSpan(0, at), .. inserted, .. bytes.AsSpan(at)];
            case "removed bytes":
                return [.. bytes.AsSpan(0, at), .. bytes.AsSpan(Math.Min(bytes.Length, at + Span(random)))];
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    // Mostly a few bytes; sometimes whole tar blocks, which keep the headers after them aligned.
    private static int Span(Random random) => random.Next(4) == 0 ? RawTar.Block * random.Next(1, 3) : random.Next(1, 65);

    private static byte[] Structure(string kind, byte[] tar, Random random)
    {
        var parsed = RawTar.Parse(tar);
        var entries = parsed.Entries;
        int pick = random.Next(entries.Count);
        switch (kind)
        {
            case "entries reordered":
                int other = (pick + random.Next(1, entries.Count)) % entries.Count;
                (entries[pick], entries[other]) = (entries[other], entries[pick]);
                break;
            case "entry duplicated":
                entries.Insert(random.Next(entries.Count + 1), entries[pick]);
                break;
            case "huge size field":
                long declared = random.Next(4) switch
                {
                    0 => entries[pick].Bytes.Length + parsed.Tail.Length + random.Next(1, 1 << 20),
                    1 => (1L << 33) - 1,
                    2 => 1L << 40,
                    _ => long.MaxValue,
                };
                entries[pick] = RawTar.WithSize(entries[pick], declared);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }

        return parsed.ToBytes();
    }
}
