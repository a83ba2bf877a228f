using Spectre.Console;

namespace LatentLab.Cli.Infrastructure;

/// <summary>
/// Everything the CLI prints goes through here: results and summaries to standard output, warnings and errors to
/// standard error. Spectre.Console drops colour by itself when output is redirected.
/// </summary>
public static class CliOutput
{
    private static readonly IAnsiConsole ErrorConsole = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Error),
    });

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
        AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(title)}[/]").LeftJustified());
        AnsiConsole.Write(grid);
        AnsiConsole.WriteLine();
    }

    /// <summary>One plain line on standard output.</summary>
    public static void Line(string text) => AnsiConsole.Profile.Out.Writer.WriteLine(text);

    /// <summary>A warning on standard error.</summary>
    public static void Warn(string text) =>
        ErrorConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(text)}");

    /// <summary>An error on standard error, one line.</summary>
    public static void Error(string text) =>
        ErrorConsole.MarkupLine($"[red]error:[/] {Markup.Escape(text)}");
}
