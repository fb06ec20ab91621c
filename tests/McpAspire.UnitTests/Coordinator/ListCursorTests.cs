using System.Buffers.Text;
using System.Text;
using McpAspire.McpCoordinator.Routing;

namespace McpAspire.UnitTests.Coordinator;

public sealed class ListCursorTests
{
    [Theory]
    [InlineData("echo")]
    [InlineData("")]
    [InlineData("outil_été_ツール")]
    [InlineData("file:///srv/docs/a b/c?d=e#f")]
    public void A_cursor_decodes_to_the_key_it_was_made_from(string key) =>
        Assert.Equal(key, ListCursor.Decode("tools", ListCursor.Encode("tools", key)));

    [Fact]
    public void A_cursor_is_url_safe_text() =>
        Assert.All(ListCursor.Encode("resources", "a/b+c?d"), c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));

    [Fact]
    public void A_cursor_of_one_list_is_no_cursor_of_another() =>
        Assert.Null(ListCursor.Decode("prompts", ListCursor.Encode("tools", "echo")));

    [Fact]
    public void A_cursor_holds_a_long_resource_uri() =>
        Assert.Equal(new string('u', 2048), ListCursor.Decode("resources", ListCursor.Encode("resources", new string('u', 2048))));

    public static TheoryData<string> NotCursors =>
    [
        "not base64!",
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes("echo")),
        Base64Url.EncodeToString([0xC3, 0x28]),
        new string('A', ListCursor.MaxLength + 4),
    ];

    [Theory]
    [MemberData(nameof(NotCursors))]
    public void Anything_else_is_not_a_cursor(string text) => Assert.Null(ListCursor.Decode("tools", text));
}
