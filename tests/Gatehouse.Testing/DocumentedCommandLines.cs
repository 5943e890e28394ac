using System.Text;
using System.Text.RegularExpressions;

namespace Gatehouse.Testing;

/// <summary>One command line as a document gives it, and where.</summary>
/// <param name="Where">FILE:LINE (the line the command ends on).</param>
/// <param name="Line">The command as written, its continuation lines joined.</param>
public sealed record DocumentedCommandLine(string Where, string Line);

/// <summary>
/// The command lines of one program (<c>gatehouse</c>, <c>gatehouse-edge</c>, …) that the repository tells its users
/// to run: in the code blocks of README.md and docs/*.md, and in the units of deploy/ (<c>ExecStart=</c> and the
/// commands in their comments). A test parses each with the program's own command-line definition, so that a
/// renamed command or option cannot leave a document behind.
/// </summary>
/// <remarks>
/// A command starts a line (after a <c>$ </c> prompt, <c>sudo -u USER</c> or the program's directory), its
/// <c>\</c> continuations are joined, and everything from an unquoted <c>#</c>, <c>|</c>, <c>&gt;</c>, <c>;</c> or
/// <c>&amp;&amp;</c> on is cut. The brackets of a synopsis' optional parts (<c>[--name NAME]</c>) are taken away so
/// that what they hold is checked too, and a placeholder the reader fills in (<c>ID</c>, <c>TENANT-ID</c>,
/// <c>0193a1f2-…</c>) becomes an id, which any option that takes an id or a text accepts.
/// </remarks>
public static partial class DocumentedCommandLines
{
    /// <summary>What a placeholder becomes.</summary>
    public const string AnId = "0193a1f2-0000-7000-8000-000000000001";

    /// <summary>The documented command lines of <paramref name="program"/> in this checkout, as (where, line) cases.</summary>
    public static TheoryData<string, string> InRepository(string program)
    {
        var root = RepositoryRoot.Find();
        var files = new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal))
            .Concat(Directory.GetFiles(Path.Combine(root, "deploy"), "*.service").Order(StringComparer.Ordinal));
        var cases = new TheoryData<string, string>();
        foreach (var file in files)
        {
            foreach (var command in Find(File.ReadAllText(file), Path.GetRelativePath(root, file), program))
            {
                cases.Add(command.Where, command.Line);
            }
        }

        return cases;
    }

    /// <summary>
    /// The command lines of <paramref name="program"/> in <paramref name="text"/>: in its code blocks when
    /// <paramref name="file"/> is Markdown, else (a systemd unit) on any line, comment marks and <c>ExecStart=</c> aside.
    /// </summary>
    public static IEnumerable<DocumentedCommandLine> Find(string text, string file, string program)
    {
        var markdown = file.EndsWith(".md", StringComparison.OrdinalIgnoreCase);
        var start = CommandStart(program);
        var lines = text.Split('\n');
        var inBlock = !markdown;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = Unwrap(lines[i], markdown);
            if (markdown && line.StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                continue;
            }

            if (!inBlock || !start.IsMatch(line))
            {
                continue;
            }

            var joined = new StringBuilder(line);
            while (joined.Length > 0 && joined[^1] == '\\' && i + 1 < lines.Length)
            {
                joined.Length--;
                joined.Append(' ').Append(Unwrap(lines[++i], markdown));
            }

            yield return new DocumentedCommandLine($"{file}:{i + 1}", joined.ToString());
        }
    }

    /// <summary>The arguments after the program's name, as a POSIX shell would split them, placeholders filled in.</summary>
    /// <exception cref="FormatException">A quote is not closed, or the line does not run <paramref name="program"/>.</exception>
    public static string[] Arguments(string line, string program)
    {
        var words = Words(line);
        var at = words is ["sudo", "-u", _, ..] ? 3 : words is ["sudo", ..] ? 1 : 0;
        if (at >= words.Count || !(words[at] == program || words[at].EndsWith("/" + program, StringComparison.Ordinal)))
        {
            throw new FormatException($"{program} does not start: {line}");
        }

        return [.. words.Skip(at + 1).Select(w => Placeholder().IsMatch(w) || w.Contains('…', StringComparison.Ordinal) ? AnId : w)];
    }

    private static List<string> Words(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c is '\'' or '"')
            {
                var end = line.IndexOf(c, i + 1);
                if (end < 0)
                {
                    throw new FormatException($"unclosed {c} in: {line}");
                }

                word.Append(line, i + 1, end - i - 1);
                inWord = true;
                i = end;
            }
            else if (c == '\\' && i + 1 < line.Length)
            {
                word.Append(line[++i]);
                inWord = true;
            }
            else if (char.IsWhiteSpace(c) || c is '[' or ']')
            {
                EndWord();
            }
            else if ((!inWord && c == '#') || c is '|' or '>' or ';' || (c == '&' && i + 1 < line.Length && line[i + 1] == '&'))
            {
                break;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        EndWord();
        return words;

        void EndWord()
        {
            if (inWord)
            {
                words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
        }
    }

    /// <summary>A line as a shell would see it: a prompt, or a unit's comment mark and <c>ExecStart=</c>, taken off.</summary>
    private static string Unwrap(string line, bool markdown)
    {
        var text = line.Trim();
        if (markdown)
        {
            return text.StartsWith("$ ", StringComparison.Ordinal) ? text[2..] : text;
        }

        text = text.TrimStart('#').Trim();
        return text.StartsWith("ExecStart=", StringComparison.Ordinal) ? text["ExecStart=".Length..] : text;
    }

    /// <summary>
    /// A line that runs <paramref name="program"/>, maybe as another user or from its directory, with a command or an
    /// option after it (not a table row that starts with the word, nor a build of its project such as
    /// <c>dotnet publish src/gatehouse-agent</c>).
    /// </summary>
    private static Regex CommandStart(string program) =>
        new($@"^(sudo(\s+-u\s+\S+)?\s+)?(/\S*/)?{Regex.Escape(program)}\s+(-|[a-z][a-z-]*(\s|$))", RegexOptions.CultureInvariant);

    /// <summary>An argument in capitals (<c>ID</c>, <c>DR-EDGE-ID</c>): the reader puts their own value there.</summary>
    [GeneratedRegex("^[A-Z][A-Z0-9-]*$")]
    private static partial Regex Placeholder();
}
