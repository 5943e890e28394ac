using Gatehouse.Updates;
using Gatehouse.Updates.Content;
using Gatehouse.Updates.Slots;
using Gatehouse.Updates.TestHost;

// activate DIR              load what should be in force; print "active VERSION trial|committed" or "active none"
// stage DIR VERSION FILE    stage FILE (its SHA-256 computed here) as VERSION, then put it on trial
// stage-and-hang DIR VERSION FILE   as stage, but print "written" and hang once the file is written and before it is renamed
switch (args)
{
    case ["stage-and-hang", var dir, var version, var file]:
        var data = File.ReadAllBytes(file);
        new SlotStore(dir).Stage(version, data, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data)), _ =>
        {
            Console.WriteLine("written");
            Thread.Sleep(Timeout.Infinite);
        });
        return 0;
    case ["activate", var dir]:
        var active = new ContentActivation(new SlotStore(dir), new CrashingChannel()).Activate();
        foreach (var refused in active.Refused)
        {
            Console.WriteLine($"refused {refused}");
        }

        Console.WriteLine(active.Value is { } content ? $"active {content.Version} {(active.OnTrial ? "trial" : "committed")}" : "active none");
        return 0;
    case ["stage", var dir, var version, var file]:
        var bytes = File.ReadAllBytes(file);
        var store = new SlotStore(dir);
        try
        {
            store.Stage(version, bytes, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
            store.BeginTrial();
            Console.WriteLine($"staged {version}");
            return 0;
        }
        catch (UpdateException e)
        {
            Console.WriteLine($"refused {e.Message} (transient: {e.IsTransient})");
            return 1;
        }

    default:
        Console.Error.WriteLine("usage: activate DIR | stage DIR VERSION FILE");
        return 2;
}
