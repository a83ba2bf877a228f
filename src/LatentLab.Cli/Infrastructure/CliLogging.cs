using Microsoft.Extensions.Logging;

namespace LatentLab.Cli.Infrastructure;

/// <summary>The logger factory handed to the library: single-line messages on standard error.</summary>
public static class CliLogging
{
    /// <summary>
    /// Shared factory: warnings and above by default (the commands print their own progress and results),
    /// everything with LATENTLAB_VERBOSE=1.
    /// </summary>
    public static ILoggerFactory Factory { get; } = LoggerFactory.Create(builder => builder
        .SetMinimumLevel(Environment.GetEnvironmentVariable("LATENTLAB_VERBOSE") == "1" ? LogLevel.Debug : LogLevel.Warning)
        .AddFilter("Microsoft", LogLevel.Warning)
        .AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.IncludeScopes = false;
        })
        // Logs go to standard error so that standard output holds only results and progress.
        .AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace));
}
