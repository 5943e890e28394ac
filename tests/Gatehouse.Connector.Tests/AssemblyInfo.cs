// The node keeps its secrets in owner-only files; these tests check Unix file modes and run where nodes do.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
