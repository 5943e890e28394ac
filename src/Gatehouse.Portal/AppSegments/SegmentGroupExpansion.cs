using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Policy;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.AppSegments;

/// <summary>
/// Turns the segment groups a rule names into the app segments in them, as bundles carry rules: the policy
/// engine knows segments, not groups.
/// </summary>
internal sealed class SegmentGroupExpansion
{
    private readonly Dictionary<string, List<string>> _segmentsByGroup;

    private SegmentGroupExpansion(Dictionary<string, List<string>> segmentsByGroup) => _segmentsByGroup = segmentsByGroup;

    /// <summary>Reads the tenant's groups and their enabled segments.</summary>
    public static async Task<SegmentGroupExpansion> LoadAsync(PortalDbContext db, Guid tenantId, CancellationToken ct)
    {
        var groups = await db.Set<SegmentGroup>().IgnoreQueryFilters().AsNoTracking()
            .Where(g => g.TenantId == tenantId).Select(g => new { g.Id, g.Name }).ToListAsync(ct);
        var segments = await db.Set<AppSegment>().IgnoreQueryFilters().AsNoTracking()
            .Where(s => s.TenantId == tenantId && s.Enabled && s.SegmentGroupId != null).Select(s => new { s.Name, s.SegmentGroupId }).ToListAsync(ct);
        return new SegmentGroupExpansion(groups.ToDictionary(
            g => g.Name,
            g => segments.Where(s => s.SegmentGroupId == g.Id).Select(s => s.Name).Order(StringComparer.Ordinal).ToList(),
            StringComparer.Ordinal));
    }

    /// <summary>
    /// The criteria with <see cref="PolicyCriteria.SegmentGroups"/> folded into <see cref="PolicyCriteria.AppSegments"/>;
    /// null when the rule names groups and no segment is left, so that it matches nothing (rather than every segment).
    /// </summary>
    public PolicyCriteria? Expand(PolicyCriteria criteria)
    {
        if (criteria.SegmentGroups is not { Count: > 0 } groups)
        {
            return criteria;
        }

        var segments = new List<string>(criteria.AppSegments ?? []);
        foreach (var group in groups)
        {
            foreach (var segment in _segmentsByGroup.GetValueOrDefault(group) ?? [])
            {
                if (!segments.Contains(segment, StringComparer.Ordinal))
                {
                    segments.Add(segment);
                }
            }
        }

        return segments.Count == 0 ? null : criteria with { AppSegments = segments, SegmentGroups = null };
    }
}
