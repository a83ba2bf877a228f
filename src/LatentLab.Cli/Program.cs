using System.CommandLine;
using LatentLab.Cli.Infrastructure;

namespace LatentLab.Cli;

/// <summary>Entry point of the <c>latentlab</c> command.</summary>
public static class Program
{
    /// <summary>Runs the command line; returns the exit code.</summary>
    public static int Main(string[] args) => Run(args).GetAwaiter().GetResult();

    /// <summary>Parses and runs <paramref name="args"/> (also used by tests, in process).</summary>
    public static async Task<int> Run(string[] args)
    {
        RootCommand root = BuildRoot();
        ParseResult parsed = root.Parse(args);
        // Parse errors become one line plus a pointer to --help, rather than the whole help text.
        if (parsed.Errors.Count > 0)
        {
            CliOutput.Error(parsed.Errors[0].Message);
            CliOutput.Line($"Run '{CommandPath(parsed)} --help' for usage.");
            return ExitCodes.Usage;
        }
        // Ctrl-C is handled by CommandRunner (finish the step, save, exit 130), not by the parser's default timeout.
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null })
            .ConfigureAwait(false);
    }

    /// <summary>The command tree.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("LatentLab: learn latent spaces of images and sample new pictures from them.");
        root.Subcommands.Add(Commands.Diffusion.DiffusionCommands.Create());
        return root;
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (System.CommandLine.Parsing.CommandResult? result = parsed.CommandResult; result != null;
             result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "latentlab" : result.Command.Name);
        }
        return string.Join(' ', names);
    }
}
