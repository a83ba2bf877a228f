using LatentLab.Cli;

namespace LatentLab.Tests.Cli;

/// <summary>Runs the latentlab command in process with standard output and error captured.</summary>
public static class CliRunner
{
    private static readonly Lock ConsoleLock = new();

    /// <summary>Exit code and everything printed.</summary>
    public sealed record Result(int ExitCode, string Out, string Error)
    {
        /// <summary>The non-empty lines of standard error.</summary>
        public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public static Result Run(params string[] args)
    {
        lock (ConsoleLock)
        {
            TextWriter savedOut = Console.Out;
            TextWriter savedError = Console.Error;
            var output = new StringWriter();
            var error = new StringWriter();
            Console.SetOut(output);
            Console.SetError(error);
            try
            {
                int code = Program.Run(args).GetAwaiter().GetResult();
                return new Result(code, output.ToString(), error.ToString());
            }
            finally
            {
                Console.SetOut(savedOut);
                Console.SetError(savedError);
            }
        }
    }
}
