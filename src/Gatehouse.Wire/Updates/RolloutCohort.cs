using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Wire.Updates;

/// <summary>
/// Where a device falls in a rollout: a position from 0 to 9,999 derived from the device and the
/// release alone. The portal and the device compute it alike, so membership needs no list;
/// a stage that covers N basis points takes every device below N, so halting and resuming reach
/// the same devices, and a growing share only ever adds devices. A different release reshuffles
/// the fleet, so the same devices are not always first.
/// </summary>
public static class RolloutCohort
{
    /// <summary>The whole fleet, in basis points.</summary>
    public const int Everyone = 10_000;

    /// <summary>The device's position for <paramref name="releaseId"/>: 0 to 9,999.</summary>
    /// <param name="deviceId">The device.</param>
    /// <param name="releaseId">The release or content version being rolled out.</param>
    /// <returns>The position.</returns>
    public static int Position(Guid deviceId, string releaseId)
    {
        ArgumentNullException.ThrowIfNull(releaseId);
        Span<byte> input = stackalloc byte[16 + Encoding.UTF8.GetMaxByteCount(releaseId.Length)];
        deviceId.TryWriteBytes(input, bigEndian: true, out _);
        var length = 16 + Encoding.UTF8.GetBytes(releaseId, input[16..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input[..length], hash);
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(hash) % Everyone);
    }

    /// <summary>Whether a device at <paramref name="position"/> is in a share of <paramref name="basisPoints"/>.</summary>
    /// <param name="position">The device's position.</param>
    /// <param name="basisPoints">The share, 0 to 10,000.</param>
    /// <returns>Whether it is included.</returns>
    public static bool Includes(int position, int basisPoints) => position < basisPoints;
}
