using LatentLab.Cli.Infrastructure;
using LatentLab.Data;

namespace LatentLab.Cli.Commands.Vae;

/// <summary>Shows one progress bar per downloaded file.</summary>
internal sealed class DownloadBars : IProgress<DownloadProgress>, IDisposable
{
    private readonly Lock _gate = new();
    private string? _file;
    private ConsoleProgress? _bar;

    public void Report(DownloadProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_gate)
        {
            if (value.FileName != _file)
            {
                _bar?.Complete();
                _bar?.Dispose();
                _file = value.FileName;
                _bar = ConsoleProgress.Start($"downloading {value.FileName}", value.BytesTotal ?? 1);
            }
            _bar!.Report(value.BytesDone, $"{value.BytesDone / 1e6:F1} MB");
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _bar?.Dispose();
            _bar = null;
        }
    }
}
