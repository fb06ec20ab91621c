using McpAspire.McpCoordinator.Registry;

namespace McpAspire.UnitTests.Coordinator;

public sealed class UriTemplatePatternTests
{
    [Theory]
    [InlineData("demo://resource/dynamic/text/{id}", "demo://resource/dynamic/text/7", true)]
    [InlineData("demo://resource/dynamic/text/{id}", "demo://resource/dynamic/text/7/more", false)]
    [InlineData("demo://resource/dynamic/text/{id}", "demo://resource/dynamic/blob/7", false)]
    [InlineData("file:///{+path}", "file:///srv/docs/a.md", true)]
    [InlineData("repo://{owner}/{name}", "repo://octo/cat", true)]
    [InlineData("repo://{owner}/{name}", "repo://octo", false)]
    [InlineData("search://items{?q,limit}", "search://items?q=x&limit=3", true)]
    [InlineData("search://items{?q,limit}", "search://items", true)]
    [InlineData("docs://{/path}", "docs:///a/b/c", true)]
    [InlineData("a.b://x", "aXb://x", false)]
    [InlineData("notes://{id}.txt", "notes://12.txt", true)]
    public void A_template_takes_the_uris_it_can_expand_to(string template, string uri, bool takes) =>
        Assert.Equal(takes, UriTemplatePattern.Compile(template)!.IsMatch(uri));

    [Theory]
    [InlineData("")]
    [InlineData("broken://{id")]
    [InlineData("broken://id}{x}")]
    [InlineData("empty://{}")]
    public void A_malformed_template_is_none(string template) => Assert.Null(UriTemplatePattern.Compile(template));

    [Fact]
    public void A_template_longer_than_the_limit_is_none() =>
        Assert.Null(UriTemplatePattern.Compile("x://" + new string('a', UriTemplatePattern.MaxLength)));

    [Fact]
    public void A_hostile_template_matches_in_linear_time()
    {
        var pattern = UriTemplatePattern.Compile("x://" + string.Concat(Enumerable.Repeat("{+a}a", 200)))!;

        // With backtracking this would not finish; without it, it is one pass.
        Assert.DoesNotMatch(pattern, "x://" + new string('a', 5000) + "!");
    }
}
