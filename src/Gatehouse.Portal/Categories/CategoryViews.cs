using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Categories;

/// <summary>URL category to API view mappings.</summary>
public static class CategoryViews
{
    /// <summary>The API view of a category.</summary>
    public static UrlCategoryDto ToDto(this UrlCategory c) => new(c.Id, c.Name, c.Description, c.Source, c.DomainCount, c.CreatedAt);
}
