using LatentLab.Weights;

namespace LatentLab.Tests.Weights;

public class Float8Tests
{
    [Theory]
    [InlineData(0x00, 0f)]
    [InlineData(0x38, 1f)]            // exponent 7 (bias 7), mantissa 0
    [InlineData(0xB8, -1f)]
    [InlineData(0x3C, 1.5f)]          // mantissa 4/8
    [InlineData(0x7E, 448f)]          // largest finite e4m3fn
    [InlineData(0x01, 0.001953125f)]  // smallest subnormal, 2^-9
    [InlineData(0x08, 0.015625f)]     // smallest normal, 2^-6
    public void E4M3_bytes_decode_to_their_values(int bits, float expected) =>
        Assert.Equal(expected, Float8.DecodeE4M3((byte)bits));

    [Fact]
    public void E4M3_has_nan_but_no_infinity()
    {
        Assert.True(float.IsNaN(Float8.DecodeE4M3(0x7F)));
        Assert.True(float.IsNaN(Float8.DecodeE4M3(0xFF)));
        Assert.Equal(240f, Float8.DecodeE4M3(0x77));   // exponent 14 is an ordinary exponent in e4m3fn
    }

    [Theory]
    [InlineData(0x3C, 1f)]
    [InlineData(0x7B, 57344f)]        // largest finite e5m2
    [InlineData(0x01, 1.52587890625e-05f)]
    public void E5M2_bytes_decode_to_their_values(int bits, float expected) =>
        Assert.Equal(expected, Float8.DecodeE5M2((byte)bits));

    [Fact]
    public void Widening_to_half_is_exact_for_every_byte()
    {
        byte[] all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        var halves = new Half[256];
        Float8.E4M3ToHalf(all, halves);
        for (int bits = 0; bits < 256; bits++)
        {
            float value = Float8.DecodeE4M3((byte)bits);
            Assert.True(float.IsNaN(value) ? Half.IsNaN(halves[bits]) : (float)halves[bits] == value, $"byte {bits:X2}");
        }
    }
}
