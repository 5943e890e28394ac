using System.Data.Common;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Storage;

/// <summary>Looks through every text and binary column of every table, to prove what the portal never stores.</summary>
public static class DatabaseScan
{
    /// <summary>Every <c>Table.Column</c> that holds <paramref name="needle"/> somewhere in some row.</summary>
    public static async Task<List<string>> ColumnsHoldingAsync(PortalServer portal, string needle)
    {
        using var scope = portal.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var postgres = db.Database.ProviderName!.Contains("Npgsql", StringComparison.Ordinal);
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var found = new List<string>();
        var scanned = 0;
        foreach (var entity in db.Model.GetEntityTypes())
        {
            var table = entity.GetTableName();
            if (table is null)
            {
                continue;
            }

            foreach (var property in entity.GetProperties())
            {
                var type = property.GetProviderClrType() ?? property.ClrType;
                var column = property.GetColumnName();
                var condition = (type == typeof(string), type == typeof(byte[]), postgres) switch
                {
                    (true, _, true) => $"strpos(\"{column}\", @needle) > 0",
                    (true, _, false) => $"instr(\"{column}\", @needle) > 0",
                    (_, true, true) => $"position(convert_to(@needle, 'UTF8') in \"{column}\") > 0",
                    (_, true, false) => $"instr(\"{column}\", CAST(@needle AS BLOB)) > 0",
                    _ => null,
                };
                if (condition is null)
                {
                    continue;
                }

                await using DbCommand command = connection.CreateCommand();
                command.CommandText = $"SELECT COUNT(*) FROM \"{table}\" WHERE {condition}";
                var parameter = command.CreateParameter();
                parameter.ParameterName = "needle";
                parameter.Value = needle;
                command.Parameters.Add(parameter);
                scanned++;
                if (Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) > 0)
                {
                    found.Add($"{table}.{column}");
                }
            }
        }

        Assert.True(scanned > 20, $"Only {scanned} columns were scanned; the scan is not looking where it should.");
        return found;
    }
}
