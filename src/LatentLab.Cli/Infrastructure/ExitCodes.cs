namespace LatentLab.Cli.Infrastructure;

/// <summary>Process exit codes of the latentlab command.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The work failed: unreadable input, bad data, a file that exists, a failed download.</summary>
    public const int Failed = 1;

    /// <summary>The command line was wrong: unknown option, bad value.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted by Ctrl-C (128 + SIGINT), after saving what could be saved.</summary>
    public const int Interrupted = 130;
}
