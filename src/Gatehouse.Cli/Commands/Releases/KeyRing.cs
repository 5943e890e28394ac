using System.CommandLine;
using Gatehouse.Tuf;
using Gatehouse.Tuf.Keys;

namespace Gatehouse.Cli.Commands.Releases;

/// <summary>
/// The private keys one <c>gatehouse release</c> command reads from key file options (<c>--key FILE</c>, repeated),
/// disposed together when the command ends, whichever of them failed to load.
/// </summary>
internal sealed class KeyRing(Invocation run) : IDisposable
{
    private readonly List<TufSigner> loaded = [];

    /// <summary>The keys of an option the command requires.</summary>
    public IReadOnlyList<TufSigner> Require(Option<FileInfo[]> option) => Load(option, run.Require(option));

    /// <summary>The keys of an optional option, or <see langword="null"/> when it is not given.</summary>
    public IReadOnlyList<TufSigner>? Get(Option<FileInfo[]> option) => run.Get(option) is { Length: > 0 } files ? Load(option, files) : null;

    /// <summary>
    /// Reads each file of <paramref name="option"/>. A key given twice is refused: it would count once toward a
    /// threshold the number of files seems to meet.
    /// </summary>
    private List<TufSigner> Load(Option<FileInfo[]> option, FileInfo[] files)
    {
        var signers = new List<TufSigner>();
        var fileOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var signer = Read(file);
            loaded.Add(signer);
            if (fileOf.TryGetValue(signer.KeyId, out var earlier))
            {
                throw new CliException(ExitCodes.Usage, earlier == file.FullName
                    ? $"{option.Name} {file.FullName} is given twice: give each key once"
                    : $"{option.Name} {earlier} and {file.FullName} are the same key ({signer.KeyId[..12]}): give each key once");
            }

            fileOf[signer.KeyId] = file.FullName;
            signers.Add(signer);
        }

        return signers;
    }

    private static TufSigner Read(FileInfo file)
    {
        try
        {
            return TufSigner.FromPemFile(file.FullName);
        }
        catch (TufException e)
        {
            throw new CliException(ExitCodes.BadInput, $"{file.FullName}: {e.Message}");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var signer in loaded)
        {
            signer.Dispose();
        }
    }
}
