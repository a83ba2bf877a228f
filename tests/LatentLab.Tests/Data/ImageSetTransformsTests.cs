using LatentLab.Data;
using LatentLab.Runtime;

namespace LatentLab.Tests.Data;

public class ImageSetTransformsTests
{
    [Fact]
    public void Padding_28_to_32_adds_two_black_pixels_each_side_and_keeps_labels()
    {
        TorchRuntime.EnsureLoaded();
        byte[] pixels = Enumerable.Repeat((byte)200, 2 * 28 * 28).ToArray();
        var digits = new ImageSet(pixels, 2, 1, 28, 28, [3, 7], ["a", "b", "c", "d", "e", "f", "g", "h"]);

        ImageSet padded = ImageSetTransforms.PadThenResize(digits, 32, 32);

        Assert.Equal((2, 1, 32, 32), (padded.Count, padded.Channels, padded.Height, padded.Width));
        Assert.Equal([3, 7], padded.Labels);
        ReadOnlySpan<byte> first = padded.Pixels.Span[..(32 * 32)];
        Assert.Equal(0, first[1 * 32 + 1]);
        Assert.Equal(200, first[2 * 32 + 2]);
        Assert.Equal(200, first[29 * 32 + 29]);
        Assert.Equal(0, first[30 * 32 + 30]);
        int bright = 0;
        foreach (byte value in first) bright += value == 200 ? 1 : 0;
        Assert.Equal(28 * 28, bright);

        ImageSet small = ImageSetTransforms.PadThenResize(digits, 32, 16);
        Assert.Equal(16, small.Height);
        Assert.Equal(200, small.Pixels.Span[8 * 16 + 8]);
    }
}
