namespace LatentLab.Weights;

/// <summary>
/// Decoding of the two 8-bit float formats found in checkpoints (OCP FP8): e4m3fn (4 exponent bits, bias 7, no
/// infinities, 0x7F/0xFF are NaN) and e5m2 (5 exponent bits, bias 15, IEEE-like with infinities).
/// </summary>
public static class Float8
{
    private static readonly Half[] E4M3Table = BuildTable(DecodeE4M3);
    private static readonly Half[] E5M2Table = BuildTable(DecodeE5M2);

    /// <summary>Value of one e4m3fn byte.</summary>
    public static float DecodeE4M3(byte bits)
    {
        int sign = (bits & 0x80) != 0 ? -1 : 1;
        int exponent = (bits >> 3) & 0xF;
        int mantissa = bits & 0x7;
        if (exponent == 0xF && mantissa == 0x7) return float.NaN;
        if (exponent == 0) return sign * mantissa / 8f * MathF.Pow(2, -6);   // subnormal
        return sign * (1 + mantissa / 8f) * MathF.Pow(2, exponent - 7);
    }

    /// <summary>Value of one e5m2 byte.</summary>
    public static float DecodeE5M2(byte bits)
    {
        int sign = (bits & 0x80) != 0 ? -1 : 1;
        int exponent = (bits >> 2) & 0x1F;
        int mantissa = bits & 0x3;
        if (exponent == 0x1F) return mantissa == 0 ? sign * float.PositiveInfinity : float.NaN;
        if (exponent == 0) return sign * mantissa / 4f * MathF.Pow(2, -14);  // subnormal
        return sign * (1 + mantissa / 4f) * MathF.Pow(2, exponent - 15);
    }

    /// <summary>Widens e4m3fn bytes to float16 (exact).</summary>
    public static void E4M3ToHalf(ReadOnlySpan<byte> source, Span<Half> destination) => Widen(E4M3Table, source, destination);

    /// <summary>Widens e5m2 bytes to float16 (exact).</summary>
    public static void E5M2ToHalf(ReadOnlySpan<byte> source, Span<Half> destination) => Widen(E5M2Table, source, destination);

    private static void Widen(Half[] table, ReadOnlySpan<byte> source, Span<Half> destination)
    {
        for (int index = 0; index < source.Length; index++) destination[index] = table[source[index]];
    }

    private static Half[] BuildTable(Func<byte, float> decode)
    {
        var table = new Half[256];
        for (int bits = 0; bits < 256; bits++) table[bits] = (Half)decode((byte)bits);
        return table;
    }
}
