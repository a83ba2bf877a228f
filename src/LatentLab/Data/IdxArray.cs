namespace LatentLab.Data;

/// <summary>The contents of one unsigned-byte IDX file: its dimensions and its values in row-major order.</summary>
public sealed class IdxArray
{
    /// <summary>Creates an array; <paramref name="data"/> must hold the product of the dimensions.</summary>
    /// <exception cref="ArgumentException">The data length does not match the dimensions.</exception>
    public IdxArray(IReadOnlyList<int> dimensions, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        ArgumentNullException.ThrowIfNull(data);
        long expected = 1;
        foreach (int size in dimensions) expected *= size;
        if (expected != data.Length)
        {
            throw new ArgumentException(
                $"data holds {data.Length} values but dimensions [{string.Join(", ", dimensions)}] need {expected}.",
                nameof(data));
        }
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>Sizes from the outermost axis (for images: count, height, width).</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The values, row-major.</summary>
    public byte[] Data { get; }
}
