using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace ModelBuild.Runtime.OnnxRuntime;

/// <summary>
/// A native ONNX Runtime session made from a block's optimized model, run through <see cref="OrtApi"/>. Thread-safe, as
/// ONNX Runtime's sessions are; released when disposed or, failing that, when collected.
/// </summary>
internal sealed class OrtSession : SafeHandle
{
    private OrtSession(nint session)
        : base(0, ownsHandle: true) => SetHandle(session);

    public override bool IsInvalid => handle == 0;

    /// <summary>A session over <paramref name="model"/> (read while the session is made, not kept) with <paramref name="options"/>.</summary>
    public static OrtSession Create(ReadOnlySpan<byte> model, SessionOptions options)
    {
        var env = OrtEnv.Instance();
        var session = OrtApi.CreateSessionFromArray(env.DangerousGetHandle(), model, options.DangerousGetHandle());
        GC.KeepAlive(env);
        GC.KeepAlive(options);
        return new OrtSession(session);
    }

    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseSession(handle);
        return true;
    }
}
