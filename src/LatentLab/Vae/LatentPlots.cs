using System.Globalization;
using LatentLab.Imaging;
using SkiaSharp;
using TorchSharp;

namespace LatentLab.Vae;

/// <summary>
/// Draws latent-space figures with SkiaSharp: a scatter plot of encoded images coloured by label, and axes around
/// the latent grid. Text uses DejaVu Sans where installed, else Skia's default face.
/// </summary>
public static class LatentPlots
{
    // Matplotlib's "tab10", the palette of the classic MNIST latent-space pictures.
    private static readonly SKColor[] Palette =
    [
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28),
        new(0x94, 0x67, 0xbd), new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f),
        new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    ];

    private const float FontSize = 14f;
    private const float Margin = 56f;

    /// <summary>
    /// A scatter plot of 2-D points [N, 2] (first column across, second up), coloured by <paramref name="labels"/>,
    /// with axes, ticks and a legend naming each class. The plot area is <paramref name="size"/> pixels square.
    /// </summary>
    public static SKBitmap Scatter(torch.Tensor points, byte[] labels, IReadOnlyList<string> classNames,
        int size = 720, string xTitle = "z[0]", string yTitle = "z[1]")
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (points.dim() != 2 || points.shape[1] != 2 || points.shape[0] != labels.Length)
        {
            throw new ArgumentException(
                $"points must be [{labels.Length}, 2], got [{string.Join(", ", points.shape)}].", nameof(points));
        }
        float[] values = points.to_type(torch.ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        (double xMin, double xMax) = Bounds(values, 0);
        (double yMin, double yMax) = Bounds(values, 1);

        using SKTypeface typeface = LoadTypeface();
        using var font = new SKFont(typeface, FontSize);
        float legendWidth = 40 + classNames.Select(name => font.MeasureText(name)).DefaultIfEmpty(0).Max();
        var bitmap = new SKBitmap((int)(Margin + size + 16 + legendWidth), (int)(16 + size + Margin));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        var plot = SKRect.Create(Margin, 16, size, size);
        float X(double value) => plot.Left + (float)((value - xMin) / (xMax - xMin)) * plot.Width;
        float Y(double value) => plot.Bottom - (float)((value - yMin) / (yMax - yMin)) * plot.Height;

        DrawAxes(canvas, font, plot, xMin, xMax, yMin, yMax, xTitle, yTitle);
        using (var dot = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill })
        {
            for (int i = 0; i < labels.Length; i++)
            {
                dot.Color = Palette[labels[i] % Palette.Length].WithAlpha(150);
                canvas.DrawCircle(X(values[2 * i]), Y(values[2 * i + 1]), 2.2f, dot);
            }
        }

        // Legend: one swatch and name per class, top right.
        using var swatch = new SKPaint { IsAntialias = true };
        using var text = new SKPaint { IsAntialias = true, Color = SKColors.Black };
        for (int label = 0; label < classNames.Count; label++)
        {
            float top = plot.Top + 8 + label * (FontSize + 8);
            swatch.Color = Palette[label % Palette.Length];
            canvas.DrawCircle(plot.Right + 28, top + FontSize / 2, 5, swatch);
            canvas.DrawText(classNames[label], plot.Right + 40, top + FontSize - 2, SKTextAlign.Left, font, text);
        }
        return bitmap;
    }

    /// <summary>
    /// Puts axes around a latent grid image (from <see cref="VaeFigures.LatentGrid"/> over
    /// [-<paramref name="range"/>, <paramref name="range"/>]^2 with <paramref name="size"/> tiles per side): ticks
    /// at tile centres, labelled with their z values.
    /// </summary>
    public static SKBitmap GridWithAxes(torch.Tensor grid, int size, double range)
    {
        ArgumentNullException.ThrowIfNull(grid);
        using SKBitmap image = ImageTensors.ToBitmap(grid);
        using SKTypeface typeface = LoadTypeface();
        using var font = new SKFont(typeface, FontSize);
        var bitmap = new SKBitmap((int)(Margin + image.Width + 16), (int)(16 + image.Height + Margin));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        canvas.DrawBitmap(image, new SKPoint(Margin, 16));
        // Tile centres sit half a tile in from the edges, so the axes span [-range - half, range + half].
        double half = range / (size - 1);
        var plot = SKRect.Create(Margin, 16, image.Width, image.Height);
        DrawAxes(canvas, font, plot, -range - half, range + half, -range - half, range + half, "z[0]", "z[1]");
        return bitmap;
    }

    private static void DrawAxes(SKCanvas canvas, SKFont font, SKRect plot, double xMin, double xMax, double yMin,
        double yMax, string xTitle, string yTitle)
    {
        using var line = new SKPaint
        {
            Color = SKColors.Black,
            StrokeWidth = 1,
            IsAntialias = true,
            Style = SKPaintStyle.Stroke
        };
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawRect(plot, line);
        foreach (double tick in Ticks(xMin, xMax))
        {
            float x = plot.Left + (float)((tick - xMin) / (xMax - xMin)) * plot.Width;
            canvas.DrawLine(x, plot.Bottom, x, plot.Bottom + 5, line);
            canvas.DrawText(Format(tick), x, plot.Bottom + 8 + FontSize, SKTextAlign.Center, font, text);
        }
        foreach (double tick in Ticks(yMin, yMax))
        {
            float y = plot.Bottom - (float)((tick - yMin) / (yMax - yMin)) * plot.Height;
            canvas.DrawLine(plot.Left - 5, y, plot.Left, y, line);
            canvas.DrawText(Format(tick), plot.Left - 8, y + FontSize / 3, SKTextAlign.Right, font, text);
        }
        canvas.DrawText(xTitle, plot.MidX, plot.Bottom + 2 * FontSize + 14, SKTextAlign.Center, font, text);
        canvas.Save();
        canvas.RotateDegrees(-90, 14, plot.MidY);
        canvas.DrawText(yTitle, 14, plot.MidY + FontSize / 2, SKTextAlign.Center, font, text);
        canvas.Restore();
    }

    /// <summary>About five "nice" tick values (1, 2 or 5 times a power of ten apart) inside [min, max].</summary>
    private static IEnumerable<double> Ticks(double min, double max)
    {
        double rough = (max - min) / 5;
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(f => f * power).First(s => s >= rough);
        for (double tick = Math.Ceiling(min / step) * step; tick <= max + 1e-9 * step; tick += step)
        {
            yield return Math.Abs(tick) < 1e-9 * step ? 0 : tick;
        }
    }

    private static string Format(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static (double Min, double Max) Bounds(float[] values, int column)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (int i = column; i < values.Length; i += 2)
        {
            min = Math.Min(min, values[i]);
            max = Math.Max(max, values[i]);
        }
        if (!double.IsFinite(min)) return (-1, 1);
        double pad = Math.Max((max - min) * 0.05, 1e-3);
        return (min - pad, max + pad);
    }

    private static SKTypeface LoadTypeface()
    {
        const string dejaVu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
        return (File.Exists(dejaVu) ? SKTypeface.FromFile(dejaVu) : null) ?? SKTypeface.Default;
    }
}
