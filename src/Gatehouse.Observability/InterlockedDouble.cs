namespace Gatehouse.Observability;

/// <summary>A lock-free add for doubles, which <see cref="Interlocked"/> has only for integers.</summary>
internal static class InterlockedDouble
{
    public static void Add(ref double location, double value)
    {
        double current = Volatile.Read(ref location);
        while (true)
        {
            double seen = Interlocked.CompareExchange(ref location, current + value, current);

            // CompareExchange compares bits; so must the retry test, or a NaN in the slot would loop forever.
            if (BitConverter.DoubleToInt64Bits(seen) == BitConverter.DoubleToInt64Bits(current))
            {
                return;
            }

            current = seen;
        }
    }
}
