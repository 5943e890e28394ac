using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using Gatehouse.Cli.Output;

namespace Gatehouse.Cli.Commands;

/// <summary>
/// Converts every typed option and argument of the command line, so that a value that does not convert is refused in
/// words (<c>--days takes a whole number, got '1.5'</c>), not in System.CommandLine's .NET type names
/// (<c>as expected type 'System.Nullable`1[System.Int32]'</c>). Installed once on the built tree; an option with a
/// parser of its own (<c>--limit</c>, <c>--since</c>) keeps it.
/// </summary>
internal static class ValuesInWords
{
    /// <summary>An id as the portal gives them, for messages.</summary>
    private const string ExampleId = "0195f3c2-7d0e-7c3a-9f00-5a1b2c3d4e5f";

    /// <summary>Sets the parser of every typed option and argument of <paramref name="command"/> and its subcommands.</summary>
    public static void Install(Command command)
    {
        foreach (var option in command.Options)
        {
            Install(option);
        }

        foreach (var argument in command.Arguments)
        {
            Install(argument);
        }

        foreach (var subcommand in command.Subcommands)
        {
            Install(subcommand);
        }
    }

    private static void Install(Symbol symbol)
    {
        switch (symbol)
        {
            case Option<int> { CustomParser: null } option:
                option.CustomParser = r => WholeNumber<int>(r) ?? 0;
                break;
            case Option<int?> { CustomParser: null } option:
                option.CustomParser = WholeNumber<int>;
                break;
            case Option<long> { CustomParser: null } option:
                option.CustomParser = r => WholeNumber<long>(r) ?? 0;
                break;
            case Option<Guid> { CustomParser: null } option:
                option.CustomParser = r => Id(r) ?? Guid.Empty;
                break;
            case Argument<Guid> { CustomParser: null } argument:
                argument.CustomParser = r => Id(r) ?? Guid.Empty;
                break;
            case Option<DateTimeOffset?> { CustomParser: null } option:
                option.CustomParser = Times.ParseOption;
                break;
            default:
                // Strings, files and flags: any token converts, or the parser's own error is already in words.
                break;
        }
    }

    private static T? WholeNumber<T>(ArgumentResult result) where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
    {
        var text = Text(result);
        if (T.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        var takes = BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big)
            ? big.Sign < 0 ? $"a whole number of at least {T.MinValue}" : $"a whole number of at most {T.MaxValue}"
            : "a whole number";
        return Refuse<T>(result, takes, text);
    }

    private static Guid? Id(ArgumentResult result)
    {
        var text = Text(result);
        if (Guid.TryParse(text, out var id))
        {
            return id;
        }

        // `gatehouse rollout show nonsense`: the noun's list shows the ids.
        var command = (result.Parent as CommandResult ?? result.Parent?.Parent as CommandResult)?.Command;
        var noun = command?.Parents.OfType<Command>().FirstOrDefault();
        var listing = noun is not null and not RootCommand && noun.Subcommands.Any(c => c.Name == "list") ? $" (`gatehouse {noun.Name} list` shows them)" : "";
        return Refuse<Guid>(result, $"an id such as {ExampleId}{listing}", text);
    }

    private static string Text(ArgumentResult result) => result.Tokens is [{ Value: var token }] ? token.Trim() : string.Empty;

    private static T? Refuse<T>(ArgumentResult result, string takes, string text) where T : struct
    {
        var name = result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;
        result.AddError($"{name} takes {takes}, got '{Table.Printable(text)}'");
        return null;
    }
}
