using System.CommandLine;
using System.CommandLine.Help;
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
        Command root = BuildRoot();
        ParseResult parsed = root.Parse(args);
        // Parse errors become one line plus a pointer to --help, rather than the whole help text.
        if (parsed.Errors.Count > 0)
        {
            // An unknown word also leaves its parent "without a command"; name the word, it is the real mistake.
            System.CommandLine.Parsing.ParseError error = parsed.UnmatchedTokens.Count == 0
                ? parsed.Errors[0]
                : parsed.Errors.FirstOrDefault(
                      e => e.Message.Contains(parsed.UnmatchedTokens[0], StringComparison.Ordinal)) ?? parsed.Errors[0];
            CliOutput.Error($"{error.Message.TrimEnd('.')} (see '{CommandPath(parsed)} --help').");
            return ExitCodes.Usage;
        }
        // Ctrl-C is handled by CommandRunner (finish the step, save, exit 130), not by the parser's default timeout.
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null })
            .ConfigureAwait(false);
    }

    /// <summary>The command tree.</summary>
    public static Command BuildRoot()
    {
        // A plain Command rather than RootCommand, so help shows "latentlab" rather than the assembly name.
        var root = new Command("latentlab", "LatentLab: learn latent spaces of images and sample new pictures from them.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        root.Subcommands.Add(Commands.Vae.VaeCommands.Create());
        return root;
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (System.CommandLine.Parsing.CommandResult? result = parsed.CommandResult; result != null;
             result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command.Name);
        }
        return string.Join(' ', names);
    }
}
