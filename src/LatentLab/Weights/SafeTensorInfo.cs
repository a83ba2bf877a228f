namespace LatentLab.Weights;

/// <summary>
/// One entry of a safetensors header: the tensor's name, its dtype code as written in the file (<c>F32</c>,
/// <c>BF16</c>, ...), its shape, and the byte range of its data relative to the start of the data section.
/// </summary>
public sealed record SafeTensorInfo(string Name, string DType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of elements (1 for a 0-d tensor).</summary>
    public long ElementCount => Shape.Aggregate(1L, (product, dimension) => product * dimension);

    /// <summary>Size of the data in bytes.</summary>
    public long ByteLength => End - Begin;
}
