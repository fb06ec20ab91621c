using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace McpAspire.Cluster.Security;

/// <summary>
/// Who a forwarded call is for: the coordinator's caller, as the coordinator authenticated them, signed under the
/// cluster key so a node can trust it. Carried in <see cref="HeaderName"/> as
/// <c>{key id}.{unix seconds}.{JSON, base64url}.{HMAC-SHA256, base64url}</c>; a node accepts it within
/// <see cref="ClusterCredentials.MaxAge"/> of its clock, like the call credential it travels with.
/// </summary>
public sealed class CallerAssertion(ClusterKeyRing keys, TimeProvider time)
{
    /// <summary>The request header that carries the assertion.</summary>
    public const string HeaderName = "McpAspire-Caller";

    /// <summary>The purpose label of an assertion's signature (see <see cref="ClusterKeyRing"/>).</summary>
    public const string Purpose = "mcpaspire-caller-v1";

    /// <summary>The longest assertion a node reads; a caller with more claims than fit is not forwarded.</summary>
    public const int MaxLength = 8192;

    /// <summary>Whether there is a cluster key to sign with.</summary>
    public bool IsEnabled => keys.IsEnabled;

    /// <summary>The signed assertion of <paramref name="caller"/>, or <see langword="null"/> when it would be longer than <see cref="MaxLength"/>.</summary>
    /// <exception cref="InvalidOperationException">There is no cluster key.</exception>
    public string? Sign(CallerIdentity caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var payload = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(caller, CallerJson.Default.CallerIdentity));
        var claim = string.Create(CultureInfo.InvariantCulture, $"{keys.SigningKeyId}.{time.GetUtcNow().ToUnixTimeSeconds()}.{payload}");
        var token = $"{claim}.{ClusterKeyRing.Encode(keys.Sign(Purpose, Encoding.ASCII.GetBytes(claim)))}";
        return token.Length <= MaxLength ? token : null;
    }

    /// <summary>
    /// Reads an assertion made by <see cref="Sign"/> with a key this ring holds, within
    /// <see cref="ClusterCredentials.MaxAge"/>; otherwise says why not.
    /// </summary>
    public bool TryRead(string token, out CallerIdentity? caller, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(token);
        caller = null;
        var parts = token.Split('.');
        if (token.Length > MaxLength || parts.Length != 4
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            || !ClusterKeyRing.TryDecode(parts[3], out var signature))
        {
            problem = $"the {HeaderName} header is malformed";
            return false;
        }

        var claim = token[..(token.Length - parts[3].Length - 1)];
        if (!keys.Verify(parts[0], Purpose, Encoding.ASCII.GetBytes(claim), signature))
        {
            problem = $"the {HeaderName} header is not signed with a key this node holds";
            return false;
        }

        var at = DateTimeOffset.FromUnixTimeSeconds(seconds);
        if ((time.GetUtcNow() - at).Duration() > ClusterCredentials.MaxAge)
        {
            problem = $"the {HeaderName} header was made at {at:O}, more than {ClusterCredentials.MaxAge.TotalMinutes:0} minutes from this node's clock";
            return false;
        }

        // Signed by a holder of the cluster key, so written by Sign: the JSON is ours.
        caller = Base64Url.IsValid(parts[2]) ? JsonSerializer.Deserialize(Base64Url.DecodeFromChars(parts[2]), CallerJson.Default.CallerIdentity) : null;
        problem = caller is null ? $"the {HeaderName} header names no caller" : null;
        return caller is not null;
    }
}

/// <summary>A caller as the coordinator authenticated them.</summary>
/// <param name="Subject">Their stable id: a token's subject, or <c>apikey:{name}</c>.</param>
/// <param name="Issuer">Who vouched for them: a token's issuer, or the API key scheme.</param>
/// <param name="Name">A name to show in logs and audit records.</param>
/// <param name="Client">The client application they called through, when the token names one (<c>azp</c>, <c>client_id</c> or <c>appid</c>).</param>
/// <param name="Scopes">Their scopes.</param>
/// <param name="Roles">Their roles.</param>
public sealed record CallerIdentity(
    [property: JsonPropertyName("sub")] string Subject,
    [property: JsonPropertyName("iss")] string Issuer,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("client")] string? Client,
    [property: JsonPropertyName("scopes")] IReadOnlyList<string> Scopes,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles);

[JsonSerializable(typeof(CallerIdentity))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class CallerJson : JsonSerializerContext;
