namespace McpAspire.AppHost.Hosting;

/// <summary>
/// Where this build put the service projects' assemblies, the AppHost's own assembly and the
/// repository root. The members are generated at build time (<c>ServiceProjects.g.cs</c>) from the
/// AppHost's project references, like Aspire's <c>Projects</c> class.
/// </summary>
public static partial class ServiceProjects;
