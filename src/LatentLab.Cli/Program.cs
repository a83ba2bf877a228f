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
            // With subcommands, an unknown word also yields "Required command was not provided"; name the word.
            System.CommandLine.Parsing.ParseError first = parsed.Errors.FirstOrDefault(error =>
                parsed.UnmatchedTokens.Any(token => error.Message.Contains(token, StringComparison.Ordinal)))
                ?? parsed.Errors[0];
            CliOutput.Error($"{Readable(first.Message).TrimEnd('.')} (see '{CommandPath(parsed)} --help').");
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
        foreach (Command command in Commands.StableDiffusion.StableDiffusionCommands.Create()) root.Subcommands.Add(command);
        root.Subcommands.Add(Commands.Diffusion.DiffusionCommands.Create());
        return root;
    }

    /// <summary>Parse errors name .NET types ("System.Int32"); say what a user should type instead.</summary>
    private static string Readable(string message) => message
        .Replace("'System.Nullable`1[System.Int32]'", "a whole number", StringComparison.Ordinal)
        .Replace("'System.Int32'", "a whole number", StringComparison.Ordinal)
        .Replace("'System.Int64'", "a whole number", StringComparison.Ordinal)
        .Replace("'System.Nullable`1[System.Double]'", "a number", StringComparison.Ordinal)
        .Replace("'System.Double'", "a number", StringComparison.Ordinal)
        .Replace("'System.Single'", "a number", StringComparison.Ordinal)
        .Replace("as expected type ", "as ", StringComparison.Ordinal);

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
