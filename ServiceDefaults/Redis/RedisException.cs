namespace McpAspire.ServiceDefaults.Redis;

/// <summary>The base of every error the Redis client raises.</summary>
public class RedisException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RedisException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public RedisException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public RedisException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The server answered a command with an error reply (<c>-ERR ...</c>).</summary>
public sealed class RedisServerException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisServerException()
    {
    }

    /// <summary>Creates the exception with the server's message.</summary>
    public RedisServerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public RedisServerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The connection is down, was lost while the command was pending, or could not be made.</summary>
public sealed class RedisConnectionException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisConnectionException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public RedisConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public RedisConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A command got no reply within its timeout.</summary>
public sealed class RedisTimeoutException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisTimeoutException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public RedisTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public RedisTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The server sent bytes that are not valid RESP2.</summary>
public sealed class RedisProtocolException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisProtocolException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public RedisProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public RedisProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
