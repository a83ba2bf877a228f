using LatentLab.Cli.Infrastructure;

namespace LatentLab.Tests.Cli;

public class ProgramTests
{
    [Fact]
    public void Unknown_command_is_one_error_line_and_usage_exit_code()
    {
        CliRunner.Result result = CliRunner.Run("paint-me-a-picture");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        string line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error:", line, StringComparison.Ordinal);
        Assert.Contains("paint-me-a-picture", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expected_failures_become_one_line_with_their_exit_code()
    {
        (int code, string error) = await Capture(() => CommandRunner.Run(_ => throw new FileNotFoundException("run/x.ckpt: no such checkpoint.")));
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal("error: run/x.ckpt: no such checkpoint.", error.Trim());

        (code, error) = await Capture(() => CommandRunner.Run(_ => throw new UsageException("--epochs must be at least 1 (got -3).")));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("error: --epochs must be at least 1 (got -3).", error.Trim());
    }

    [Fact]
    public async Task A_bug_is_reported_in_one_line_without_a_stack_trace()
    {
        (int code, string error) = await Capture(() => CommandRunner.Run(_ => throw new InvalidCastException("oops")));

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("unexpected InvalidCastException: oops", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Long_messages_are_not_wrapped()
    {
        string message = "/a/very/long/path/" + new string('x', 200) + " is not a checkpoint of a VAE.";
        (_, string error) = await Capture(() => CommandRunner.Run(_ => throw new InvalidDataException(message)));

        Assert.Equal("error: " + message, error.Trim());
    }

    private static async Task<(int Code, string Error)> Capture(Func<Task<int>> run)
    {
        TextWriter saved = Console.Error;
        var error = new StringWriter();
        Console.SetError(error);
        try
        {
            return (await run(), error.ToString());
        }
        finally
        {
            Console.SetError(saved);
        }
    }
}
