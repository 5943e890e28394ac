using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Devices;

/// <summary><c>gatehouse device list|show|revoke</c>: enrolled endpoints.</summary>
internal static class DeviceCommand
{
    public static Command Build(CliApp app)
    {
        var device = CliApp.Noun("device", "devices", "Enrolled endpoints");

        var status = new Option<string>("--status") { Description = "active or revoked" };
        status.AcceptOnlyFromAmong(DeviceStatuses.Active, DeviceStatuses.Revoked);
        device.Subcommands.Add(app.List<DeviceDto>("List devices", run => CliApp.Query("devices", ("status", run.Get(status))),
            () => new Table("ID", "NAME", "USER", "OS", "AGENT", "STATUS", "CERT EXPIRES", "LAST SEEN"),
            (t, d) => t.Row(d.Id, d.Name, d.UserEmail, d.Os, d.AgentVersion, d.Status, d.CertificateNotAfter, d.LastSeenAt),
            status));

        var id = new Argument<Guid>("ID") { Description = "The device's id" };
        device.Subcommands.Add(app.Action(app.WithJson(new Command("show", "Show a device") { id }), async run =>
            run.Out.One(await run.Client.GetAsync<DeviceDto>($"devices/{run.Get(id)}", run.Cancellation), Describe)));

        device.Subcommands.Add(app.Revoke<DeviceDto>("Revoke a device: edges refuse it from their next bundle", "devices", "device", d => d.Name));
        return device;
    }

    private static void Describe(TextWriter w, DeviceDto d) => ResultPrinter.Fields(w,
        ("id", d.Id), ("name", d.Name), ("user", d.UserEmail), ("os", d.Os), ("agent", d.AgentVersion), ("status", d.Status),
        ("certificate", d.CertificateSerial), ("cert expires", d.CertificateNotAfter), ("enrolled", d.EnrolledAt),
        ("last seen", d.LastSeenAt), ("revoked", d.RevokedAt));
}
