using Spectre.Console;

namespace LatentLab.Cli.Infrastructure;

/// <summary>
/// Everything the CLI prints goes through here: results and summaries to standard output, warnings and errors to
/// standard error. Spectre.Console drops colour by itself when output is redirected.
/// </summary>
public static class CliOutput
{
    /// <summary>Whether standard output is an interactive terminal (live bars) or a file/pipe (plain lines).</summary>
    public static bool IsInteractive =>
        !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not "dumb"
        && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>The block printed before a run: what data, how long, on what device, with which seed.</summary>
    public static void Summary(string title, IEnumerable<(string Key, string Value)> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var grid = new Grid().AddColumn(new GridColumn().PadRight(2)).AddColumn();
        foreach ((string key, string value) in rows) grid.AddRow(new Text(key, new Style(Color.Grey)), new Text(value));
        IAnsiConsole console = Over(Console.Out);
        console.Write(new Rule($"[bold]{Markup.Escape(title)}[/]").LeftJustified());
        console.Write(grid);
        console.WriteLine();
    }

    /// <summary>One plain line on standard output.</summary>
    public static void Line(string text) => Console.Out.WriteLine(text);

    /// <summary>A warning on standard error, one line (never wrapped, so it stays greppable).</summary>
    public static void Warn(string text) => Console.Error.WriteLine($"{Coloured("warning:", "33")} {text}");

    /// <summary>An error on standard error, one line.</summary>
    public static void Error(string text) => Console.Error.WriteLine($"{Coloured("error:", "31")} {text}");

    private static string Coloured(string label, string ansiColour) =>
        Console.IsErrorRedirected || Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 }
            ? label
            : $"\u001b[{ansiColour}m{label}\u001b[0m";

    // Made per call over the current writer, so output redirected by a caller (tests, Console.SetOut) is honoured.
    private static IAnsiConsole Over(TextWriter writer) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
}
