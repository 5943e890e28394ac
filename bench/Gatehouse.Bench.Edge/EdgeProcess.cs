using System.Globalization;

namespace Gatehouse.Bench.Edge;

/// <summary>What <c>/proc</c> tells of the edge process: resident memory and open descriptors.</summary>
internal sealed record EdgeProcess(int Pid)
{
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{Pid}/status has no VmRSS: is the edge running?");
    }

    public int OpenDescriptors() => Directory.GetFiles($"/proc/{Pid}/fd").Length;
}
