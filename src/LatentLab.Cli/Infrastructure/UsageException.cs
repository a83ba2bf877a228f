namespace LatentLab.Cli.Infrastructure;

/// <summary>A bad option or value: printed as one line "error: ..." and exit code 2.</summary>
public sealed class UsageException : Exception
{
    public UsageException() { }

    public UsageException(string message) : base(message) { }

    public UsageException(string message, Exception inner) : base(message, inner) { }
}
