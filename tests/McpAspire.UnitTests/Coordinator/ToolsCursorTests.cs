using System.Buffers.Text;
using System.Text;
using McpAspire.McpCoordinator.Routing;

namespace McpAspire.UnitTests.Coordinator;

public sealed class ToolsCursorTests
{
    [Theory]
    [InlineData("echo")]
    [InlineData("")]
    [InlineData("outil_été_ツール")]
    public void A_cursor_decodes_to_the_name_it_was_made_from(string name) =>
        Assert.Equal(name, ToolsCursor.Decode(ToolsCursor.Encode(name)));

    [Fact]
    public void A_cursor_is_url_safe_text() =>
        Assert.All(ToolsCursor.Encode("a/b+c?d"), c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));

    public static TheoryData<string> NotCursors =>
    [
        "not base64!",
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes("echo")),
        Base64Url.EncodeToString([0xC3, 0x28]),
        new string('A', ToolsCursor.MaxLength + 4),
    ];

    [Theory]
    [MemberData(nameof(NotCursors))]
    public void Anything_else_is_not_a_cursor(string text) => Assert.Null(ToolsCursor.Decode(text));
}
