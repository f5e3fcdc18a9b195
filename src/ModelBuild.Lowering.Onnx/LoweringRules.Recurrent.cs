using ModelBuild.Onnx.Proto;

namespace ModelBuild.Lowering.Onnx;

/// <summary>
/// LSTM, GRU and Elman RNN layers as ONNX's LSTM/GRU/RNN operators, one per layer. PyTorch and ONNX order the gates
/// differently (LSTM i,f,g,o against i,o,f,c; GRU r,z,n against z,r,h), so each weight's gate blocks are reordered by
/// a Split and a Concat, which ONNX Runtime folds offline. PyTorch's GRU applies the reset gate after the hidden
/// product: linear_before_reset.
/// </summary>
internal static partial class LoweringRules
{
    private static void AddRecurrent(RuleTable t)
    {
        t.Multi("aten.lstm.input", a => Recurrent(a, "LSTM", [0, 3, 1, 2], lstm: true));
        t.Multi("aten.gru.input", a => Recurrent(a, "GRU", [1, 0, 2], lstm: false));
        t.Multi("aten.rnn_tanh.input", a => Recurrent(a, "RNN", [0], lstm: false, activation: "Tanh"));
        t.Multi("aten.rnn_relu.input", a => Recurrent(a, "RNN", [0], lstm: false, activation: "Relu"));
    }

    /// <param name="gates">for each ONNX gate block, the PyTorch gate block it is.</param>
    private static object?[] Recurrent(LoweringNode a, string op, int[] gates, bool lstm, string? activation = null)
    {
        RequireFloat(a);
        var parameters = a.TensorNames("params");
        var hasBiases = a.Bool("has_biases", true);
        var layers = (int)a.Long("num_layers");
        var directions = a.Bool("bidirectional", false) ? 2 : 1;
        var batchFirst = a.Bool("batch_first", false);
        var perDirection = hasBiases ? 4 : 2;
        if (parameters.Count != layers * directions * perDirection)
        {
            throw new NotLowerableException("recurrent layers with projections (proj_size) have no ONNX rule");
        }
        if (a.Bool("train", false) && a.Double("dropout", 0) > 0)
        {
            throw Random("recurrent dropout in training mode");
        }
        var hidden = a.StaticDims(a.MetaOf(parameters[1]!), [1], "the hidden weight's")[0];
        var input = a.Tensor("input");
        var unbatched = a.Meta("input").Rank == 2;
        string h0, c0 = "";
        if (lstm)
        {
            var hx = a.TensorNames("hx");
            (h0, c0) = (a.B.Value(hx[0]!), a.B.Value(hx[1]!));
        }
        else
        {
            h0 = a.Tensor("hx");
        }
        // Work in (time, batch, features), as ONNX's recurrent operators do.
        var x = unbatched ? a.B.Op("Unsqueeze", [input, a.B.Ints(1)]) : batchFirst ? Transpose(a, input, [1, 0, 2]) : input;
        if (unbatched)
        {
            h0 = a.B.Op("Unsqueeze", [h0, a.B.Ints(1)]);
            c0 = lstm ? a.B.Op("Unsqueeze", [c0, a.B.Ints(1)]) : c0;
        }
        var finalH = new List<string>();
        var finalC = new List<string>();
        for (var layer = 0; layer < layers; layer++)
        {
            // One weight per direction, made from the index of that direction's first parameter, stacked: [directions, rows, cols].
            string Stacked(Func<int, string> weight) => a.B.Op("Concat", Enumerable.Range(0, directions).Select(d =>
                a.B.Op("Unsqueeze", [weight(((layer * directions) + d) * perDirection), a.B.Ints(0)])), Attr.Int("axis", 0));
            string Gates(int parameter) => Reorder(a, a.B.Value(parameters[parameter]!), gates, hidden);
            var inputs = new List<string>
            {
                x, Stacked(first => Gates(first)), Stacked(first => Gates(first + 1)),
                hasBiases ? Stacked(first => a.B.Op("Concat", [Gates(first + 2), Gates(first + 3)], Attr.Int("axis", 0))) : "", "",
                a.B.Op("Slice", [h0, a.B.Ints(layer * directions), a.B.Ints((layer + 1) * directions), a.B.Ints(0)]),
            };
            if (lstm)
            {
                inputs.Add(a.B.Op("Slice", [c0, a.B.Ints(layer * directions), a.B.Ints((layer + 1) * directions), a.B.Ints(0)]));
            }
            var attributes = new List<AttributeProto>
            {
                Attr.Int("hidden_size", hidden), Attr.String("direction", directions == 2 ? "bidirectional" : "forward"),
            };
            if (op == "GRU")
            {
                attributes.Add(Attr.Int("linear_before_reset", 1));
            }
            if (activation is not null)
            {
                attributes.Add(Attr.Strings("activations", Enumerable.Repeat(activation, directions)));
            }
            var outputs = a.B.Node(op, inputs, lstm ? 3 : 2, [.. attributes]);
            // Y is (time, directions, batch, hidden): the directions go next to the features.
            x = a.B.Op("Reshape", [Transpose(a, outputs[0], [0, 2, 1, 3]), a.B.Ints(0, 0, -1)]);
            finalH.Add(outputs[1]);
            if (lstm)
            {
                finalC.Add(outputs[2]);
            }
        }
        var output = unbatched ? a.B.Op("Squeeze", [x, a.B.Ints(1)]) : batchFirst ? Transpose(a, x, [1, 0, 2]) : x;
        string Final(List<string> states)
        {
            var all = states.Count == 1 ? states[0] : a.B.Op("Concat", states, Attr.Int("axis", 0));
            return unbatched ? a.B.Op("Squeeze", [all, a.B.Ints(1)]) : all;
        }
        return lstm ? [output, Final(finalH), Final(finalC)] : [output, Final(finalH)];
    }

    /// <summary>A weight or bias whose leading dim is gate blocks of <paramref name="hidden"/> rows, in ONNX's gate order.</summary>
    private static string Reorder(LoweringNode a, string weight, int[] gates, long hidden)
    {
        if (gates.Length == 1)
        {
            return weight;
        }
        var blocks = a.B.Node("Split", [weight, a.B.Ints([.. gates.Select(_ => hidden)])], gates.Length, Attr.Int("axis", 0));
        return a.B.Op("Concat", gates.Select(g => blocks[g]), Attr.Int("axis", 0));
    }
}
