using System.ComponentModel;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Packs.Conformance;

/// <summary>The resources of the <c>conformance</c> pack: static text, static binary, a template, and one to subscribe to.</summary>
[McpServerResourceType]
public sealed class ConformanceResources
{
    /// <summary>The resource the suite subscribes to and unsubscribes from.</summary>
    public const string WatchedUri = "test://watched-resource";

    /// <summary>A fixed text resource.</summary>
    [McpServerResource(UriTemplate = "test://static-text", Name = "static-text", MimeType = "text/plain")]
    [Description("A fixed text resource.")]
    public static TextResourceContents StaticText() => new()
    {
        Uri = "test://static-text",
        MimeType = "text/plain",
        Text = "This is the content of the static text resource.",
    };

    /// <summary>A fixed binary resource: a 1×1 PNG.</summary>
    [McpServerResource(UriTemplate = "test://static-binary", Name = "static-binary", MimeType = "image/png")]
    [Description("A fixed binary resource: a 1x1 red PNG.")]
    public static BlobResourceContents StaticBinary() => BlobResourceContents.FromBytes(ConformanceMedia.Png, "test://static-binary", "image/png");

    /// <summary>A resource template: the id in the URI comes back in the JSON document.</summary>
    [McpServerResource(UriTemplate = "test://template/{id}/data", Name = "template-data", MimeType = "application/json")]
    [Description("A JSON document for any id: test://template/{id}/data.")]
    public static TextResourceContents TemplateData([Description("Any id; it is echoed in the document.")] string id) => new()
    {
        Uri = $"test://template/{id}/data",
        MimeType = "application/json",
        Text = new JsonObject { ["id"] = id, ["templateTest"] = true, ["data"] = $"Data for ID: {id}" }.ToJsonString(),
    };

    /// <summary>A resource clients may subscribe to; the subscription is kept per session.</summary>
    [McpServerResource(UriTemplate = WatchedUri, Name = "watched-resource", MimeType = "text/plain")]
    [Description("A text resource that clients may subscribe to for update notifications.")]
    public static TextResourceContents Watched() => new()
    {
        Uri = WatchedUri,
        MimeType = "text/plain",
        Text = "Watched resource content.",
    };
}
