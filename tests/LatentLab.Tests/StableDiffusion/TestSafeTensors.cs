using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion;

/// <summary>
/// A minimal safetensors reader for trusted test files (F32 and I64 only).
/// TODO(#4): replace with LatentLab.Weights.SafeTensorsFile - the shared, hardened reader lands on main later.
/// </summary>
internal static class TestSafeTensors
{
    public static torch.Tensor Read(string path, string name)
    {
        (JsonElement header, long dataStart) = ReadHeader(path);
        if (!header.TryGetProperty(name, out JsonElement info))
            throw new KeyNotFoundException($"{Path.GetFileName(path)} has no tensor '{name}'");
        return ReadTensor(path, dataStart, info);
    }

    public static Dictionary<string, torch.Tensor> ReadAll(string path)
    {
        (JsonElement header, long dataStart) = ReadHeader(path);
        var tensors = new Dictionary<string, torch.Tensor>();
        foreach (JsonProperty property in header.EnumerateObject())
        {
            if (property.Name == "__metadata__") continue;
            tensors[property.Name] = ReadTensor(path, dataStart, property.Value);
        }
        return tensors;
    }

    private static (JsonElement Header, long DataStart) ReadHeader(string path)
    {
        using FileStream stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        long length = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        byte[] headerBytes = new byte[length];
        stream.ReadExactly(headerBytes);
        using JsonDocument document = JsonDocument.Parse(Encoding.UTF8.GetString(headerBytes));
        return (document.RootElement.Clone(), 8 + length);
    }

    private static torch.Tensor ReadTensor(string path, long dataStart, JsonElement info)
    {
        string dtype = info.GetProperty("dtype").GetString()!;
        long[] shape = [.. info.GetProperty("shape").EnumerateArray().Select(dimension => dimension.GetInt64())];
        JsonElement offsets = info.GetProperty("data_offsets");
        long begin = offsets[0].GetInt64();
        long end = offsets[1].GetInt64();
        byte[] bytes = new byte[end - begin];
        using (FileStream stream = File.OpenRead(path))
        {
            stream.Seek(dataStart + begin, SeekOrigin.Begin);
            stream.ReadExactly(bytes);
        }
        return dtype switch
        {
            "F32" => torch.tensor(MemoryMarshalCast<float>(bytes), shape),
            "I64" => torch.tensor(MemoryMarshalCast<long>(bytes), shape),
            _ => throw new NotSupportedException($"test reader handles F32 and I64, not {dtype}"),
        };
    }

    private static T[] MemoryMarshalCast<T>(byte[] bytes) where T : struct =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
}
