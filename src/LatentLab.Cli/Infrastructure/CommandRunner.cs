using System.CommandLine;
using LatentLab.Data;
using LatentLab.Runtime;

namespace LatentLab.Cli.Infrastructure;

/// <summary>
/// Runs a command's body and turns every expected failure into one line on standard error and an exit code, so a
/// user never sees a stack trace for bad input. The first Ctrl-C cancels the token (trainers finish the current
/// step, save and return); a second one ends the process at once.
/// </summary>
public static class CommandRunner
{
    /// <summary>Set this environment variable to 1 to see full stack traces of unexpected errors.</summary>
    public const string DebugVariable = "LATENTLAB_DEBUG";

    /// <summary>
    /// Attaches <paramref name="body"/> as the command's action, run through <see cref="Run"/>. (Named apart from
    /// System.CommandLine's own <c>Command.SetAction</c>, whose instance method would otherwise silently win.)
    /// </summary>
    public static void SetGuardedAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.SetAction((ParseResult parseResult, CancellationToken _) =>
            Run(cancellationToken => body(parseResult, cancellationToken)));
    }

    /// <summary>Runs <paramref name="body"/> with Ctrl-C handling and error mapping; returns the exit code.</summary>
    public static async Task<int> Run(Func<CancellationToken, Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var cancellation = new CancellationTokenSource();
        int presses = 0;
        void OnCancel(object? sender, ConsoleCancelEventArgs args)
        {
            if (Interlocked.Increment(ref presses) > 1) return;   // second press: default handling ends the process
            args.Cancel = true;
            CliOutput.Warn("interrupted: finishing the current step and saving; press Ctrl-C again to quit at once.");
            cancellation.Cancel();
        }

        Console.CancelKeyPress += OnCancel;
        try
        {
            return await body(cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            CliOutput.Error("interrupted.");
            return ExitCodes.Interrupted;
        }
        catch (System.Runtime.InteropServices.ExternalException error)
        {
            // libtorch's messages carry C++ frames after the first line; the first line says what went wrong.
            string first = OneLine(error.Message.Split('\n', 2)[0]);
            CliOutput.Error(first.Contains("allocate", StringComparison.OrdinalIgnoreCase)
                ? $"not enough memory for this size: {first}"
                : $"tensor library: {first}");
            if (Environment.GetEnvironmentVariable(DebugVariable) == "1") Console.Error.WriteLine(error);
            return ExitCodes.Failed;
        }
        catch (Exception error) when (ExitCodeFor(error) is { } code)
        {
            CliOutput.Error(OneLine(error.Message));
            if (Environment.GetEnvironmentVariable(DebugVariable) == "1") Console.Error.WriteLine(error);
            return code;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            CliOutput.Error($"unexpected {error.GetType().Name}: {OneLine(error.Message)} " +
                            $"(set {DebugVariable}=1 for details)");
            if (Environment.GetEnvironmentVariable(DebugVariable) == "1") Console.Error.WriteLine(error);
            return ExitCodes.Failed;
        }
        finally
        {
            Console.CancelKeyPress -= OnCancel;
        }
    }

    /// <summary>The exit code of an expected failure, or null for a bug.</summary>
    private static int? ExitCodeFor(Exception error) => error switch
    {
        UsageException => ExitCodes.Usage,
        ArgumentException => ExitCodes.Usage,
        FileNotFoundException or DirectoryNotFoundException or InvalidDataException or IOException
            or UnauthorizedAccessException or DownloadException or NativeLibraryException or NotSupportedException
            or System.Text.Json.JsonException or KeyNotFoundException => ExitCodes.Failed,
        _ => null,
    };

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
