namespace Gatehouse.Trust.Certificates;

/// <summary>A certificate a tenant CA issued.</summary>
/// <param name="CertificatePem">The certificate as a PEM <c>CERTIFICATE</c> block.</param>
/// <param name="SerialNumberHex">The serial number in lowercase hex.</param>
/// <param name="NotBefore">Start of validity.</param>
/// <param name="NotAfter">End of validity.</param>
/// <param name="Thumbprint">Lowercase hex SHA-256 of the certificate's DER (see <see cref="CertificateAuthority.ThumbprintOf"/>).</param>
public sealed record IssuedCertificate(string CertificatePem, string SerialNumberHex, DateTimeOffset NotBefore, DateTimeOffset NotAfter, string Thumbprint);
