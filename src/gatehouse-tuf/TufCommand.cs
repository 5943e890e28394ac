using System.CommandLine;
using Gatehouse.Tuf.Client;

namespace Gatehouse.Tuf.Program;

/// <summary>
/// <c>gatehouse-tuf</c>: the TUF client of the Gatehouse updater on the command line of the
/// tuf-conformance suite (<c>init</c>, <c>refresh</c>, <c>download</c>). Exit code 0 on success,
/// 1 on any failure, with the reason on stderr.
/// </summary>
internal static class TufCommand
{
    public const int Ok = 0;
    public const int Failed = 1;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var metadataDir = new Option<string>("--metadata-dir") { Description = "Where trusted metadata is kept.", Required = true, Recursive = true };
        var metadataUrl = new Option<string>("--metadata-url") { Description = "The repository's metadata URL.", Recursive = true };
        var targetNames = new Option<string[]>("--target-name") { Description = "A target path to download (repeatable).", Recursive = true, AllowMultipleArgumentsPerToken = false };
        var targetDir = new Option<string>("--target-dir") { Description = "Where downloaded artifacts go.", Recursive = true };
        var targetBaseUrl = new Option<string>("--target-base-url") { Description = "The repository's artifact URL.", Recursive = true };

        var trustedRoot = new Argument<string>("trusted-root") { Description = "The file holding the first trusted root.json." };
        var init = new Command("init", "Trust ROOT as the first root; makes no request.") { trustedRoot };
        init.SetAction(parse =>
        {
            var dir = parse.GetValue(metadataDir)!;
            Directory.CreateDirectory(dir);
            TufUpdater.Initialize(dir, File.ReadAllBytes(parse.GetValue(trustedRoot)!));
            stdout.WriteLine($"gatehouse-tuf: trusted root stored in {dir}");
            return Ok;
        });

        var refresh = new Command("refresh", "Bring root, timestamp, snapshot and targets up to date.");
        refresh.SetAction(async (parse, ct) =>
        {
            var updater = NewUpdater(parse.GetValue(metadataDir)!, Url(parse.GetValue(metadataUrl), "--metadata-url"), null, null);
            await updater.RefreshAsync(ct);
            return Ok;
        });

        var download = new Command("download", "Refresh, then download and verify each --target-name into --target-dir.");
        download.SetAction(async (parse, ct) =>
        {
            var source = Url(parse.GetValue(metadataUrl), "--metadata-url");
            var targetSource = Url(parse.GetValue(targetBaseUrl), "--target-base-url");
            var dir = parse.GetValue(targetDir) ?? throw Missing("--target-dir");
            var names = parse.GetValue(targetNames) ?? [];
            if (names.Length == 0)
            {
                throw Missing("--target-name");
            }

            Directory.CreateDirectory(dir);
            var updater = NewUpdater(parse.GetValue(metadataDir)!, source, targetSource, dir);
            await updater.RefreshAsync(ct);
            foreach (var name in names)
            {
                var target = await updater.GetTargetInfoAsync(name, ct)
                    ?? throw new TufException(TufFailure.UnknownTarget, $"no trusted targets metadata lists {name}");
                var path = updater.FindCachedTarget(target) ?? await updater.DownloadTargetAsync(target, ct);
                stdout.WriteLine(path);
            }

            return Ok;
        });

        var root = new RootCommand("gatehouse-tuf: a TUF (specification 1.0) client: verifies repository metadata and downloads artifacts.")
        {
            metadataDir, metadataUrl, targetNames, targetDir, targetBaseUrl, init, refresh, download,
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await stderr.WriteLineAsync($"gatehouse-tuf: {error.Message}");
            }

            return Failed;
        }

        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (TufException e)
        {
            await stderr.WriteLineAsync($"gatehouse-tuf: {e.Failure}: {e.Message}");
            return Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"gatehouse-tuf: {e.Message}");
            return Failed;
        }
        catch (Exception e)
        {
            // The conformance contract is 0 or 1; a crash must still read as a failure, with its trace.
            await stderr.WriteLineAsync($"gatehouse-tuf: unexpected error: {e}");
            return Failed;
        }
    }

    private static TufUpdater NewUpdater(string metadataDir, Uri metadataUrl, Uri? targetBaseUrl, string? targetDir)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        return new TufUpdater(
            new UpdaterOptions { MetadataDirectory = metadataDir, MetadataBaseUrl = metadataUrl, TargetBaseUrl = targetBaseUrl, TargetDirectory = targetDir },
            new HttpRemoteFiles(http));
    }

    private static Uri Url(string? value, string option)
    {
        if (value is null)
        {
            throw Missing(option);
        }

        return Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new TufException(TufFailure.State, $"{option} must be an http or https URL, not \"{value}\"");
    }

    private static TufException Missing(string option) => new(TufFailure.State, $"this command needs {option}");
}
