using TorchSharp;

namespace LatentLab.Weights;

/// <summary>The dtype codes of the safetensors format and how each maps onto a torch dtype.</summary>
internal static class SafeTensorsDTypes
{
    /// <summary>Bytes per element of every dtype code this reader accepts.</summary>
    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8,
        ["F32"] = 4,
        ["F16"] = 2,
        ["BF16"] = 2,
        ["I64"] = 8,
        ["I32"] = 4,
        ["I16"] = 2,
        ["I8"] = 1,
        ["U8"] = 1,
        ["BOOL"] = 1,
        ["F8_E4M3"] = 1,
        ["F8_E5M2"] = 1,
    };

    public static IEnumerable<string> Supported => ElementSizes.Keys;

    public static bool TryGetElementSize(string code, out int size) => ElementSizes.TryGetValue(code, out size);

    /// <summary>
    /// The torch dtype a tensor of this code is stored in once loaded. The 8-bit float formats have no TorchSharp
    /// dtype, so they are widened to float16 on load (both convert exactly: every e4m3 and e5m2 value is a float16).
    /// </summary>
    public static torch.ScalarType ToTorch(string code) => code switch
    {
        "F64" => torch.ScalarType.Float64,
        "F32" => torch.ScalarType.Float32,
        "F16" => torch.ScalarType.Float16,
        "BF16" => torch.ScalarType.BFloat16,
        "I64" => torch.ScalarType.Int64,
        "I32" => torch.ScalarType.Int32,
        "I16" => torch.ScalarType.Int16,
        "I8" => torch.ScalarType.Int8,
        "U8" => torch.ScalarType.Byte,
        "BOOL" => torch.ScalarType.Bool,
        "F8_E4M3" or "F8_E5M2" => torch.ScalarType.Float16,
        _ => throw new NotSupportedException(
            $"safetensors dtype '{code}' is not supported; supported: {string.Join(", ", Supported)}."),
    };

    public static string FromTorch(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float64 => "F64",
        torch.ScalarType.Float32 => "F32",
        torch.ScalarType.Float16 => "F16",
        torch.ScalarType.BFloat16 => "BF16",
        torch.ScalarType.Int64 => "I64",
        torch.ScalarType.Int32 => "I32",
        torch.ScalarType.Int16 => "I16",
        torch.ScalarType.Int8 => "I8",
        torch.ScalarType.Byte => "U8",
        torch.ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"torch dtype {type} cannot be written to safetensors."),
    };
}
