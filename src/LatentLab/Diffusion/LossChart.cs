using System.Globalization;
using LatentLab.Imaging;
using SkiaSharp;

namespace LatentLab.Diffusion;

/// <summary>Draws the per-epoch noise and image losses as a small line chart (PNG).</summary>
internal static class LossChart
{
    private const int Width = 640, Height = 360, Margin = 48;

    public static void Save(string path, IReadOnlyList<DiffusionEpochRecord> history)
    {
        using var bitmap = new SKBitmap(Width, Height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            Draw(canvas, history);
        }
        ImageFiles.SavePng(path, bitmap, overwrite: true);
    }

    private static void Draw(SKCanvas canvas, IReadOnlyList<DiffusionEpochRecord> history)
    {
        using var axisPaint = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, IsAntialias = true };
        using var font = new SKFont(SKTypeface.Default, 12);
        float left = Margin, right = Width - 16, top = 16, bottom = Height - Margin;
        canvas.DrawLine(left, bottom, right, bottom, axisPaint);
        canvas.DrawLine(left, top, left, bottom, axisPaint);
        canvas.DrawText("epoch", (left + right) / 2, Height - 12, SKTextAlign.Center, font, axisPaint);
        if (history.Count == 0) return;

        double maximum = history.Max(record => Math.Max(record.NoiseLoss, record.ImageLoss));
        maximum = Math.Max(maximum, DiffusionTrainer.ZeroPredictionLoss) * 1.05;
        float X(int index) => history.Count == 1 ? (left + right) / 2 : left + (right - left) * index / (history.Count - 1);
        float Y(double value) => (float)(bottom - (bottom - top) * value / maximum);

        // The level of predicting no noise at all, for reference.
        using var reference = new SKPaint
        {
            Color = SKColors.Gray,
            StrokeWidth = 1,
            PathEffect = SKPathEffect.CreateDash([4, 4], 0),
        };
        float zeroLevel = Y(DiffusionTrainer.ZeroPredictionLoss);
        canvas.DrawLine(left, zeroLevel, right, zeroLevel, reference);
        canvas.DrawText("0.798 (predicting zero noise)", right, zeroLevel - 4, SKTextAlign.Right, font, axisPaint);
        for (int tick = 0; tick <= 4; tick++)
        {
            double value = maximum * tick / 4;
            canvas.DrawText(value.ToString("0.00", CultureInfo.InvariantCulture), left - 4, Y(value) + 4,
                SKTextAlign.Right, font, axisPaint);
        }
        canvas.DrawText(history[^1].Epoch.ToString(CultureInfo.InvariantCulture), right, bottom + 16,
            SKTextAlign.Right, font, axisPaint);

        Series(canvas, history.Select(record => record.NoiseLoss).ToList(), SKColors.SteelBlue, X, Y);
        Series(canvas, history.Select(record => record.ImageLoss).ToList(), SKColors.DarkOrange, X, Y);
        using var noisePaint = new SKPaint { Color = SKColors.SteelBlue, IsAntialias = true };
        using var imagePaint = new SKPaint { Color = SKColors.DarkOrange, IsAntialias = true };
        canvas.DrawText("noise loss", left + 8, top + 12, SKTextAlign.Left, font, noisePaint);
        canvas.DrawText("image loss", left + 8, top + 28, SKTextAlign.Left, font, imagePaint);
    }

    private static void Series(SKCanvas canvas, List<double> values, SKColor color, Func<int, float> x,
        Func<double, float> y)
    {
        using var paint = new SKPaint { Color = color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var path = new SKPath();
        path.MoveTo(x(0), y(values[0]));
        for (int i = 1; i < values.Count; i++) path.LineTo(x(i), y(values[i]));
        canvas.DrawPath(path, paint);
        foreach ((double value, int index) in values.Select((value, index) => (value, index)))
            canvas.DrawCircle(x(index), y(value), 2.5f, paint);
    }
}
