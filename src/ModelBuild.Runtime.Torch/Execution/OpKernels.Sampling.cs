using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>Resampling and padding: interpolation, grid sampling, the padding modes, and sliding-window columns (im2col, col2im).</summary>
public static partial class OpKernels
{
    private static void AddSampling(KernelTable t)
    {
        // The .vec forms are what F.interpolate exports: (input, output_size?, [align_corners,] scale_factors?).
        foreach (var (op, mode, antialias) in new (string, InterpolationMode, bool)[]
        {
            ("upsample_nearest1d", InterpolationMode.Nearest, false), ("upsample_nearest3d", InterpolationMode.Nearest, false),
            ("upsample_linear1d", InterpolationMode.Linear, false), ("upsample_bilinear2d", InterpolationMode.Bilinear, false),
            ("upsample_trilinear3d", InterpolationMode.Trilinear, false), ("upsample_bicubic2d", InterpolationMode.Bicubic, false),
            ("_upsample_bilinear2d_aa", InterpolationMode.Bilinear, true), ("_upsample_bicubic2d_aa", InterpolationMode.Bicubic, true),
        })
        {
            t.Op($"aten.{op}.vec", a => F.interpolate(a.Tensor("input"), a.OptionalLongs("output_size"), a.OptionalDoubles("scale_factors"),
                mode, AlignCorners(a, mode), recompute_scale_factor: false, antialias));
        }

        // The .default form (self, output_size, align_corners, scales_h?, scales_w?), which torch.nn.functional's antialiased path calls.
        t.Op("aten._upsample_bilinear2d_aa.default", a => Scales(a) is { } scales
            ? F.interpolate(a.Self, null, scales, InterpolationMode.Bilinear, a.Bool("align_corners", false), recompute_scale_factor: false, antialias: true)
            : F.interpolate(a.Self, a.OptionalLongs("output_size"), null, InterpolationMode.Bilinear, a.Bool("align_corners", false), recompute_scale_factor: false, antialias: true));

        t.Op("aten.grid_sampler_2d.default", GridSample, GridSampleCheck);
        t.Op("aten.grid_sampler_3d.default", GridSample, GridSampleCheck);
        t.Op("aten.grid_sampler.default", GridSample, GridSampleCheck);

        t.Op("aten.pad.default", a => F.pad(a.Self, a.Longs("pad"), a.OptionalString("mode") switch
        {
            null or "constant" => PaddingModes.Constant,
            "reflect" => PaddingModes.Reflect,
            "replicate" => PaddingModes.Replicate,
            "circular" => PaddingModes.Circular,
            var other => throw a.Unsupported("mode", $"'{other}'"),
        }, a.Double("value", 0)), n => n.OneOf("mode", "constant", "reflect", "replicate", "circular"));
        foreach (var rank in new[] { 1, 2, 3 })
        {
            t.Op($"aten.reflection_pad{rank}d.default", a => F.pad(a.Self, a.Longs("padding"), PaddingModes.Reflect));
            t.Op($"aten.replication_pad{rank}d.default", a => F.pad(a.Self, a.Longs("padding"), PaddingModes.Replicate));
        }

        t.Op("aten.im2col.default", Im2Col);
        t.Op("aten.col2im.default", a => F.fold(a.Self, Pair(a.Longs("output_size")), Pair(a.Longs("kernel_size")),
            Pair(a.Longs("dilation")), Pair(a.Longs("padding")), Pair(a.Longs("stride"))));
        t.Op("aten.pixel_unshuffle.default", a => F.pixel_unshuffle(a.Self, a.Long("downscale_factor")));
    }

    /// <summary>im2col of [N, C, H, W], or of [C, H, W] as ATen takes it too (libtorch's C++ unfold wants the batch).</summary>
    private static Tensor Im2Col(NodeArguments a)
    {
        var batched = a.Self.dim() == 4;
        var columns = F.unfold(batched ? a.Self : a.Self.unsqueeze(0), Pair(a.Longs("kernel_size")), Pair(a.Longs("dilation")), Pair(a.Longs("padding")), Pair(a.Longs("stride")));
        return batched ? columns : columns.squeeze(0);
    }

    private static (long, long) Pair(long[] values) => values.Length == 1 ? (values[0], values[0]) : (values[0], values[1]);

    /// <summary>align_corners applies to the linear modes only; libtorch refuses it for nearest.</summary>
    private static bool? AlignCorners(NodeArguments a, InterpolationMode mode) =>
        mode is InterpolationMode.Nearest ? null : a.Bool("align_corners", false);

    /// <summary>
    /// The scales of a .default upsampling when it gives one per spatial dim: they decide the sampling positions, and
    /// output_size is their floor; null when output_size alone decides.
    /// </summary>
    private static double[]? Scales(NodeArguments a)
    {
        var scales = new[] { "scales_h", "scales_w" }.Select(a.OptionalDouble).OfType<double>().ToArray();
        return scales.Length == a.Self.dim() - 2 ? scales : null;
    }

    private static Tensor GridSample(NodeArguments a) => F.grid_sample(a.Tensor("input"), a.Tensor("grid"),
        a.Long("interpolation_mode", 0) == 1 ? GridSampleMode.Nearest : GridSampleMode.Bilinear,
        a.Long("padding_mode", 0) switch
        {
            0 => GridSamplePaddingMode.Zeros,
            1 => GridSamplePaddingMode.Border,
            _ => GridSamplePaddingMode.Reflection,
        },
        a.Bool("align_corners", false));

    private static string? GridSampleCheck(Engine.Graph.GraphNode node) =>
        node.Long("interpolation_mode") is 2 ? "bicubic grid sampling (interpolation_mode 2) is not supported" : null;
}
