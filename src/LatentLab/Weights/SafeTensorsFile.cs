using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;
using TorchSharp;

namespace LatentLab.Weights;

/// <summary>
/// A safetensors file opened for reading. The file is memory-mapped, so opening a 10 GB checkpoint costs no memory
/// until tensors are read, and each read copies one tensor's bytes once, straight into a new CPU tensor.
/// </summary>
/// <remarks>
/// Layout: an unsigned 64-bit little-endian header length N, N bytes of JSON mapping each name to
/// <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> (offsets relative to the end of the header), an optional
/// <c>"__metadata__"</c> map of strings, then the data. The header is validated completely before anything is read,
/// because checkpoint files come from strangers: every fault is an <see cref="InvalidDataException"/> naming the
/// file, and no allocation is sized by an unchecked number from the file.
/// </remarks>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>Largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly long _dataStart;
    private bool _disposed;

    private SafeTensorsFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, long dataStart,
        Dictionary<string, SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        _view = view;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The file this was opened from.</summary>
    public string Path { get; }

    /// <summary>Every tensor in the file by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> strings (empty if absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates a safetensors file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message says why.</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such safetensors file.", path);

        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8) throw Invalid(path, $"the file is {fileLength} bytes, too short for a header length");

        byte[] header;
        using (FileStream stream = File.OpenRead(path))
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            ulong headerLength = BitConverter.ToUInt64(lengthBytes);
            if (headerLength > (ulong)(fileLength - 8))
                throw Invalid(path, $"header length {headerLength} runs past the end of the {fileLength}-byte file");
            if (headerLength > MaxHeaderBytes)
                throw Invalid(path, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
            header = new byte[headerLength];
            stream.ReadExactly(header);
        }

        long dataStart = 8 + header.Length;
        long dataLength = fileLength - dataStart;
        (Dictionary<string, SafeTensorInfo> tensors, Dictionary<string, string> metadata) =
            ParseHeader(path, header, dataLength);

        // An empty data section (only empty tensors) cannot be mapped; nothing will need reading then.
        if (dataLength == 0) return new SafeTensorsFile(path, null, null, dataStart, tensors, metadata);
        MemoryMappedFile map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        return new SafeTensorsFile(path, map, view, dataStart, tensors, metadata);
    }

    /// <summary>
    /// Reads one tensor into a new CPU tensor of the stored dtype (8-bit floats widened to float16), optionally
    /// converted to <paramref name="convertTo"/>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name in this file.</exception>
    public torch.Tensor ReadTensor(string name, torch.ScalarType? convertTo = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Tensors.TryGetValue(name, out SafeTensorInfo? info))
            throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");

        torch.Tensor tensor = torch.empty(info.Shape, SafeTensorsDTypes.ToTorch(info.DType));
        if (info.ByteLength > 0) CopyInto(info, tensor);
        if (convertTo is { } target && target != tensor.dtype)
        {
            torch.Tensor converted = tensor.to_type(target);
            tensor.Dispose();
            return converted;
        }
        return tensor;
    }

    private unsafe void CopyInto(SafeTensorInfo info, torch.Tensor destination)
    {
        byte* basePointer = null;
        _view!.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
        try
        {
            byte* source = basePointer + _view.PointerOffset + _dataStart + info.Begin;
            if (info.DType is "F8_E4M3" or "F8_E5M2")
            {
                var bytes = new ReadOnlySpan<byte>(source, checked((int)info.ByteLength));
                Span<Half> halves = MemoryMarshal.Cast<byte, Half>(destination.bytes);
                if (info.DType == "F8_E4M3") Float8.E4M3ToHalf(bytes, halves);
                else Float8.E5M2ToHalf(bytes, halves);
                return;
            }
            // Span lengths are 32-bit, so very large tensors are copied in chunks.
            Span<byte> target = destination.bytes;
            long remaining = info.ByteLength;
            long offset = 0;
            while (remaining > 0)
            {
                int chunk = (int)Math.Min(remaining, 1 << 30);
                new ReadOnlySpan<byte>(source + offset, chunk).CopyTo(target.Slice((int)offset, chunk));
                offset += chunk;
                remaining -= chunk;
            }
        }
        finally
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    private static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseHeader(
        string path, byte[] header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException error)
        {
            throw Invalid(path, $"header is not valid JSON ({error.Message})");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Invalid(path, "header is not a JSON object");
            var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    ReadMetadata(path, entry.Value, metadata);
                    continue;
                }
                if (tensors.ContainsKey(entry.Name)) throw Invalid(path, $"tensor '{entry.Name}' appears twice");
                tensors.Add(entry.Name, ReadEntry(path, entry.Name, entry.Value, dataLength));
            }
            CheckNoOverlap(path, tensors.Values);
            return (tensors, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(path, "__metadata__ is not an object");
        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Invalid(path, $"__metadata__ value '{item.Name}' is not a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafeTensorInfo ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(path, $"tensor '{name}' entry is not an object");
        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Invalid(path, $"tensor '{name}' has no dtype");
        string dtype = dtypeElement.GetString()!;
        if (!SafeTensorsDTypes.TryGetElementSize(dtype, out int elementSize))
        {
            throw Invalid(path,
                $"tensor '{name}' has unknown dtype '{dtype}' (supported: {string.Join(", ", SafeTensorsDTypes.Supported)})");
        }

        if (!value.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Invalid(path, $"tensor '{name}' has no shape");
        var shape = new long[shapeElement.GetArrayLength()];
        long elements = 1;
        int axis = 0;
        foreach (JsonElement dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out long size) || size < 0)
                throw Invalid(path, $"tensor '{name}' has an invalid shape dimension");
            shape[axis++] = size;
            // Overflow here means the shape cannot possibly fit in the file.
            elements = size == 0 ? 0 : elements > long.MaxValue / size ? -1 : elements * size;
            if (elements < 0) throw Invalid(path, $"tensor '{name}' shape is impossibly large");
        }

        if (!value.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array
            || offsets.GetArrayLength() != 2)
            throw Invalid(path, $"tensor '{name}' has no [begin, end] data_offsets");
        if (!offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw Invalid(path, $"tensor '{name}' has invalid data_offsets");
        if (end > dataLength)
            throw Invalid(path, $"tensor '{name}' data [{begin}, {end}) lies beyond the {dataLength}-byte data section");
        if (elements > long.MaxValue / elementSize || elements * elementSize != end - begin)
        {
            throw Invalid(path,
                $"tensor '{name}' of dtype {dtype} and shape [{string.Join(", ", shape)}] needs " +
                $"{elements * elementSize} bytes but its offsets hold {end - begin}");
        }
        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    private static void CheckNoOverlap(string path, IEnumerable<SafeTensorInfo> tensors)
    {
        SafeTensorInfo? previous = null;
        foreach (SafeTensorInfo tensor in tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.Begin))
        {
            if (previous != null && tensor.Begin < previous.End)
                throw Invalid(path, $"tensors '{previous.Name}' and '{tensor.Name}' overlap");
            previous = tensor;
        }
    }

    private static InvalidDataException Invalid(string path, string reason) =>
        new($"{path}: not a valid safetensors file: {reason}.");

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view?.Dispose();
        _map?.Dispose();
    }
}
