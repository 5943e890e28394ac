using System.Linq.Expressions;
using Gatehouse.Portal.Admins;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Tenants;
using Gatehouse.Portal.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Gatehouse.Portal.Storage;

/// <summary>
/// The portal's database. Rows of tenant-owned entities are filtered to the request's tenant,
/// new rows are stamped with it, and the audit log only grows.
/// </summary>
public class PortalDbContext(DbContextOptions<PortalDbContext> options, TenantScope scope) : DbContext(options)
{
    /// <summary>The tenant this context acts in; read by the query filters on every query.</summary>
    protected Guid? ScopedTenantId => scope.TenantId;

    /// <summary>Tenants.</summary>
    public DbSet<Tenant> Tenants => Set<Tenant>();

    /// <summary>Admins.</summary>
    public DbSet<Admin> Admins => Set<Admin>();

    /// <summary>API tokens.</summary>
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    /// <summary>Admin sessions.</summary>
    public DbSet<AdminSession> AdminSessions => Set<AdminSession>();

    /// <summary>Users.</summary>
    public DbSet<User> Users => Set<User>();

    /// <summary>Groups.</summary>
    public DbSet<Group> Groups => Set<Group>();

    /// <summary>Group memberships.</summary>
    public DbSet<GroupMembership> GroupMemberships => Set<GroupMembership>();

    /// <summary>The append-only audit log.</summary>
    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();

    /// <inheritdoc />
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        if (Database.IsSqlite())
        {
            // SQLite cannot order or compare DateTimeOffset stored as text; a binary (long) form sorts right.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
            configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
    }

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);

        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            if (typeof(ITenantOwned).IsAssignableFrom(entity.ClrType))
            {
                modelBuilder.Entity(entity.ClrType).HasQueryFilter(TenantFilter(entity.ClrType));
            }
        }
    }

    /// <summary>Builds <c>e =&gt; (Guid?)e.TenantId == ScopedTenantId</c> for one entity type.</summary>
    private LambdaExpression TenantFilter(Type entityType)
    {
        var entity = Expression.Parameter(entityType, "e");
        var tenantId = Expression.Convert(Expression.Property(entity, nameof(ITenantOwned.TenantId)), typeof(Guid?));
        var scoped = Expression.Property(Expression.Constant(this), nameof(ScopedTenantId));
        return Expression.Lambda(Expression.Equal(tenantId, scoped), entity);
    }

    /// <inheritdoc />
    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        GuardChanges();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    /// <inheritdoc />
    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        GuardChanges();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    /// <summary>Stamps new rows with the scope's tenant and refuses cross-tenant writes and audit edits.</summary>
    private void GuardChanges()
    {
        // Rows of a tenant created in this same unit of work (its owner, its first audit entry) are not cross-tenant.
        var newTenants = ChangeTracker.Entries<Tenant>().Where(t => t.State == EntityState.Added).Select(t => t.Entity.Id).ToHashSet();
        foreach (var entry in ChangeTracker.Entries())
        {
            if (entry.Entity is AuditEntry && entry.State is EntityState.Modified or EntityState.Deleted)
            {
                throw new InvalidOperationException("The audit log is append-only.");
            }

            if (entry.Entity is not ITenantOwned owned || entry.State is EntityState.Unchanged or EntityState.Detached)
            {
                continue;
            }

            if (owned.TenantId == Guid.Empty && scope.TenantId is { } tenant)
            {
                owned.TenantId = tenant;
            }

            if (scope.TenantId is { } current && owned.TenantId != current && !newTenants.Contains(owned.TenantId))
            {
                throw new InvalidOperationException($"A {entry.Metadata.ClrType.Name} of another tenant cannot be written in this scope.");
            }
        }
    }
}
