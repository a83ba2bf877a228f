using System.Text;
using System.Text.Json;
using LatentLab.Training;
using TorchSharp;

namespace LatentLab.Weights;

/// <summary>Writes tensors as a safetensors file that PyTorch's <c>safetensors.torch.load_file</c> reads.</summary>
public static class SafeTensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> (any device; copied to the CPU contiguously) to <paramref name="path"/>,
    /// atomically: a crash leaves either the old file or the new one, never half of one.
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        List<KeyValuePair<string, torch.Tensor>> entries = tensors.ToList();

        // 1. Header: names in the given order, data packed back to back.
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach ((string name, torch.Tensor tensor) in entries)
        {
            long length = tensor.numel() * tensor.ElementSize;
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = SafeTensorsDTypes.FromTorch(tensor.dtype),
                ["shape"] = tensor.shape,
                ["data_offsets"] = new[] { offset, offset + length },
            };
            offset += length;
        }
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        // The data section starts 8-byte aligned; the format pads the header with spaces for that.
        int padding = (8 - json.Length % 8) % 8;
        byte[] paddedHeader = [.. json, .. Encoding.ASCII.GetBytes(new string(' ', padding))];

        // 2. Header length, header, data.
        AtomicFiles.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((ulong)paddedHeader.Length));
            stream.Write(paddedHeader);
            foreach ((_, torch.Tensor tensor) in entries)
            {
                using var scope = torch.NewDisposeScope();
                torch.Tensor cpu = tensor.detach().cpu().contiguous();
                if (cpu.numel() > 0) stream.Write(cpu.bytes);
            }
        });
    }
}
