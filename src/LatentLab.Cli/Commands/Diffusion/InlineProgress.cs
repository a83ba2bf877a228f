namespace LatentLab.Cli.Commands.Diffusion;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs its handler on the reporting thread, in order (the framework's
/// <see cref="Progress{T}"/> posts to the thread pool, so updates could arrive out of order or after the work ended).
/// </summary>
internal sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
{
    private readonly Lock _lock = new();

    public void Report(T value)
    {
        lock (_lock) handler(value);
    }
}
