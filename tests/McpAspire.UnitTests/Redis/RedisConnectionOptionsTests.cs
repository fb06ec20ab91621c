using McpAspire.ServiceDefaults.Redis;

namespace McpAspire.UnitTests.Redis;

public sealed class RedisConnectionOptionsTests
{
    [Fact]
    public void Parses_the_StackExchange_form_Aspire_injects()
    {
        var options = RedisConnectionOptions.Parse("cache.internal:6380,password=s3cret,ssl=true,defaultDatabase=2,connectTimeout=1500,syncTimeout=700,abortConnect=false");

        Assert.Equal("cache.internal", options.Host);
        Assert.Equal(6380, options.Port);
        Assert.Equal("s3cret", options.Password);
        Assert.Null(options.User);
        Assert.True(options.UseTls);
        Assert.Equal(2, options.Database);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(700), options.CommandTimeout);
    }

    [Theory]
    [InlineData("localhost", "localhost", 6379)]
    [InlineData("127.0.0.1:7000", "127.0.0.1", 7000)]
    [InlineData("[::1]:7001", "::1", 7001)]
    [InlineData("[::1]", "::1", 6379)]
    [InlineData(" first:1 , second:2 ", "first", 1)]
    public void Takes_the_first_endpoint(string text, string host, int port)
    {
        var options = RedisConnectionOptions.Parse(text);

        Assert.Equal(host, options.Host);
        Assert.Equal(port, options.Port);
    }

    [Fact]
    public void Parses_a_redis_uri_with_user_password_and_database()
    {
        var options = RedisConnectionOptions.Parse("redis://app:p%40ss@redis.example:6390/3");

        Assert.Equal("redis.example", options.Host);
        Assert.Equal(6390, options.Port);
        Assert.Equal("app", options.User);
        Assert.Equal("p@ss", options.Password);
        Assert.Equal(3, options.Database);
        Assert.False(options.UseTls);
    }

    [Fact]
    public void Parses_rediss_as_tls_with_the_default_port_and_a_bare_password()
    {
        var options = RedisConnectionOptions.Parse("rediss://secret@redis.example");

        Assert.True(options.UseTls);
        Assert.Equal(6379, options.Port);
        Assert.Equal("secret", options.Password);
        Assert.Null(options.User);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("password=x", "names no host:port endpoint")]
    [InlineData("host:notaport", "invalid port")]
    [InlineData("host:70000", "invalid port")]
    [InlineData("[::1:6379", "unterminated IPv6")]
    [InlineData("host,ssl=maybe", "'ssl' must be true or false")]
    [InlineData("host,defaultDatabase=-1", "'defaultDatabase' must be an integer")]
    [InlineData("host,syncTimeout=0", "'syncTimeout' must be an integer of at least 1")]
    [InlineData("redis://host/notadb", "must be a database number")]
    public void Rejects_malformed_strings_with_a_message_that_says_what_is_wrong(string text, string fragment)
    {
        var error = Assert.Throws<FormatException>(() => RedisConnectionOptions.Parse(text));

        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("password=hunter2")]
    [InlineData("redis://user:hunter2@/")]
    public void Never_puts_the_password_in_an_error_message(string text)
    {
        var error = Assert.Throws<FormatException>(() => RedisConnectionOptions.Parse(text));

        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_redacts_the_password()
    {
        var options = RedisConnectionOptions.Parse("redis://alice:hunter2@cache.internal:6380/2");

        var text = options.ToString();

        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        Assert.Equal("cache.internal:6380 (tls=False, database=2, user=alice, password=redacted)", text);
    }
}
