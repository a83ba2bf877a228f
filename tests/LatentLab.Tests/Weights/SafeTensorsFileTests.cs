using System.Text;
using LatentLab.Weights;
using TorchSharp;

namespace LatentLab.Tests.Weights;

public class SafeTensorsFileTests
{
    [Theory]
    [InlineData("f32")]
    [InlineData("f16")]
    [InlineData("bf16")]
    [InlineData("f64")]
    [InlineData("i64")]
    [InlineData("i32")]
    [InlineData("u8")]
    [InlineData("bool")]
    [InlineData("scalar0d")]
    [InlineData("empty")]
    public void Reads_every_dtype_written_by_pytorch(string name)
    {
        using SafeTensorsFile file = SafeTensorsFile.Open(TestPaths.Data("misc", "dtypes.safetensors"));
        using SafeTensorsFile expectations = SafeTensorsFile.Open(TestPaths.Data("misc", "misc.safetensors"));

        using torch.Tensor actual = file.ReadTensor(name, torch.float32);
        using torch.Tensor expected = expectations.ReadTensor($"dtypes_as_float32.{name}", torch.float32);

        TensorAssert.Equal(expected, actual, name);
        Assert.Equal("dtype test", file.Metadata["note"]);
    }

    [Fact]
    public void Writer_round_trips_values_dtypes_and_metadata()
    {
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "round.safetensors");
        using torch.Tensor floats = torch.linspace(-3, 3, 12).reshape(3, 4);
        using torch.Tensor halves = floats.to_type(torch.bfloat16);
        using torch.Tensor integers = torch.arange(5, dtype: torch.int64);
        using torch.Tensor flags = torch.tensor(new[] { true, false, true });

        SafeTensorsWriter.Save(path,
            [new("floats", floats), new("halves", halves), new("integers", integers), new("flags", flags)],
            new Dictionary<string, string> { ["format"] = "pt" });

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal(["flags", "floats", "halves", "integers"], file.Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("BF16", file.Tensors["halves"].DType);
        Assert.Equal("pt", file.Metadata["format"]);
        TensorAssert.Equal(floats, file.ReadTensor("floats"));
        TensorAssert.Equal(halves, file.ReadTensor("halves"));
        TensorAssert.Equal(integers, file.ReadTensor("integers"));
        TensorAssert.Equal(flags, file.ReadTensor("flags"));
        // The data section must start 8-byte aligned, as the format requires.
        long headerLength = BitConverter.ToInt64(File.ReadAllBytes(path).AsSpan(0, 8));
        Assert.Equal(0, (8 + headerLength) % 8);
    }

    public static TheoryData<string, byte[], string> HostileFiles() => new()
    {
        { "too short", [1, 2, 3], "too short" },
        { "header past end", Header(1_000_000, "{}"), "runs past the end" },
        { "not json", Build("{not json", 0), "not valid JSON" },
        { "unknown dtype", Build("""{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}""", 1), "unknown dtype 'Q7'" },
        { "offsets out of range", Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4), "beyond" },
        { "size mismatch", Build("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8), "needs 12 bytes" },
        {
            "overlap",
            Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12),
            "overlap"
        },
        { "negative dim", Build("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4), "invalid shape" },
        {
            "huge shape",
            Build("""{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}""", 4),
            "impossibly large"
        },
        { "reversed offsets", Build("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[4,0]}}""", 4), "invalid data_offsets" },
        { "metadata not strings", Build("""{"__metadata__":{"a":1}}""", 0), "not a string" },
    };

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void Hostile_files_are_clear_errors_naming_the_file(string what, byte[] bytes, string reason)
    {
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "hostile.safetensors");
        File.WriteAllBytes(path, bytes);

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path).Dispose());

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains(reason, StringComparison.Ordinal), $"{what}: {error.Message}");
    }

    private static byte[] Header(ulong declaredLength, string json) =>
        [.. BitConverter.GetBytes(declaredLength), .. Encoding.UTF8.GetBytes(json)];

    private static byte[] Build(string json, int dataBytes) =>
        [.. Header((ulong)Encoding.UTF8.GetByteCount(json), json), .. new byte[dataBytes]];

    [Fact]
    public void Header_over_the_limit_is_refused_before_it_is_read()
    {
        // The file really is that long (sparse zeros), so only the limit can refuse it.
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "huge-header.safetensors");
        using (FileStream stream = File.Create(path))
        {
            stream.Write(BitConverter.GetBytes((ulong)SafeTensorsFile.MaxHeaderBytes + 1));
            stream.SetLength(SafeTensorsFile.MaxHeaderBytes + 64);
        }

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path).Dispose());

        Assert.Contains("exceeds", error.Message, StringComparison.Ordinal);
    }
}
