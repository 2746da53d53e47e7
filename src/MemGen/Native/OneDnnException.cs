namespace MemGen.Native;

/// <summary>A oneDNN call returned a status other than success.</summary>
public sealed class OneDnnException : Exception
{
    /// <summary>Creates the exception for <paramref name="call"/> made on behalf of <paramref name="primitive"/>.</summary>
    public OneDnnException(string primitive, string call, int status)
        : base($"oneDNN {primitive}: {call} failed with status {OneDnnApi.StatusName(status)} ({status}).")
    {
        Primitive = primitive;
        Call = call;
        Status = status;
    }

    /// <summary>The primitive being built or run, e.g. "convolution forward (64→64 3×3, batch 64, 40×40)".</summary>
    public string Primitive { get; }

    /// <summary>The C function that failed.</summary>
    public string Call { get; }

    /// <summary>The dnnl_status_t value.</summary>
    public int Status { get; }

    /// <summary>The status as the header names it (e.g. "unimplemented").</summary>
    public string StatusName => OneDnnApi.StatusName(Status);

    /// <summary>True when oneDNN has no implementation for the requested problem (dnnl_unimplemented).</summary>
    public bool IsUnimplemented => Status == 3;
}
