using System.Net.Http.Json;
using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Tests.Hosting;

/// <summary>Admins besides the owner, made through the API.</summary>
public static class TestAdmins
{
    /// <summary>
    /// Creates an auditor, replaces the one-time password and returns a signed-in client. Costs two sign-ins
    /// (the sign-in limit is 10 a minute per address).
    /// </summary>
    public static async Task<HttpClient> SignInAuditorAsync(PortalServer portal, HttpClient owner, string email = "auditor@example.test")
    {
        var response = await owner.PostAsJsonAsync("admins", new CreateAdminRequest(email, AdminRoles.Auditor), PortalServer.Json);
        var created = (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<CreateAdminResponse>(PortalServer.Json))!;
        const string Password = "auditor-password-123";
        using (var first = await portal.SignInAsync(email, created.OneTimePassword))
        {
            (await first.PostAsJsonAsync("auth/password", new ChangePasswordRequest(created.OneTimePassword, Password), PortalServer.Json)).EnsureSuccessStatusCode();
        }

        return await portal.SignInAsync(email, Password);
    }
}
