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

    [Theory]
    [InlineData("vae", "train", "--epochs", "abc")]
    [InlineData("vae", "train", "--learning-rate", "fast")]
    [InlineData("vae", "grid", "--size", "x")]
    [InlineData("generate", "a cat", "--steps", "1.5")]
    public void Unparsable_numbers_are_one_line_saying_what_was_expected(params string[] args)
    {
        CliRunner.Result result = CliRunner.Run(args);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        string line = Assert.Single(result.ErrorLines);
        Assert.Contains($"'{args[^1]}'", line, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vae", "train", "--threads", "100000")]
    [InlineData("vae", "interpolate", "--from", "0", "--to", "1", "--steps", "100000")]
    [InlineData("vae", "grid", "--size", "100000")]
    public void Absurd_sizes_are_refused_before_any_work(params string[] args)
    {
        CliRunner.Result result = CliRunner.Run(args);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("must be", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Libtorch_errors_keep_only_their_first_line()
    {
        // libtorch's errors surface as ExternalException, which is what TorchSharp throws for them.
#pragma warning disable CA2201
        (int code, string error) = await Capture(() => CommandRunner.Run(_ => throw new System.Runtime.InteropServices
            .ExternalException("[enforce fail at alloc_cpu.cpp:127] can't allocate memory: 40000000000 bytes\nframe #0: c10::x")));
#pragma warning restore CA2201

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal("error: not enough memory for this size: [enforce fail at alloc_cpu.cpp:127] can't allocate " +
                     "memory: 40000000000 bytes", error.Trim());
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
