using System.Security.Cryptography;

namespace Gatehouse.Cli.Tests.Scripted;

/// <summary>A DR public key (P-256, PEM) in a folder of its own, for <c>gatehouse dr set --public-key</c>; deleted with it.</summary>
public sealed class DrPublicKeyFile : IDisposable
{
    public DrPublicKeyFile()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Path = System.IO.Path.Combine(Directory.CreateTempSubdirectory("gatehouse-dr-key-").FullName, "dr.pem.pub");
        File.WriteAllText(Path, ecdsa.ExportSubjectPublicKeyInfoPem());
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(System.IO.Path.GetDirectoryName(Path)!, recursive: true);
}
