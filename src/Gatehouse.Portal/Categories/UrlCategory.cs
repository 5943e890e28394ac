namespace Gatehouse.Portal.Categories;

/// <summary>A named set of domains that policy rules refer to by name.</summary>
public sealed class UrlCategory : Storage.ITenantOwned
{
    /// <summary>Where a category's domains come from.</summary>
    public static readonly IReadOnlyList<string> Sources = ["custom", "imported"];

    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>Unique within the tenant.</summary>
    public required string Name { get; set; }

    /// <summary>Free text.</summary>
    public string Description { get; set; } = "";

    /// <summary><c>custom</c> or <c>imported</c>.</summary>
    public required string Source { get; set; }

    /// <summary>How many domains the category holds, kept with every change so that listings need not count.</summary>
    public long DomainCount { get; set; }

    /// <summary>When the category was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>One domain of a category (exact; a category entry also covers its subdomains when the edge matches).</summary>
public sealed class CategoryDomain : Storage.ITenantOwned
{
    /// <summary>Time-ordered id, the key that domain listings page by.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant (also the category's).</summary>
    public Guid TenantId { get; set; }

    /// <summary>The category.</summary>
    public Guid CategoryId { get; set; }

    /// <summary>Lower-case DNS name.</summary>
    public required string Domain { get; set; }
}
