using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// LSTM, GRU and Elman RNN layers from the flat weights torch.export passes (per layer and direction: w_ih, w_hh,
/// then b_ih, b_hh with biases, then w_hr with an LSTM projection). TorchSharp has no functional form, and modules
/// would hold state; the cell math with tensor ops is stateless and so safe to run from several threads.
/// </summary>
public static partial class OpKernels
{
    private delegate (Tensor H, Tensor? C) Cell(Tensor inputGates, Tensor h, Tensor? c, RecurrentWeights w);

    private static void AddRecurrent(KernelTable t)
    {
        t.Multi("aten.lstm.input", a =>
        {
            var hx = a.Tensors("hx");
            var (output, h, c) = Recurrent(a, hx[0], hx[1], LstmCell);
            return [output, h, c];
        });
        t.Multi("aten.gru.input", a =>
        {
            var (output, h, _) = Recurrent(a, a.Tensor("hx"), null, GruCell);
            return [output, h];
        });
        t.Multi("aten.rnn_tanh.input", a =>
        {
            var (output, h, _) = Recurrent(a, a.Tensor("hx"), null, (g, h, _, w) => (Hidden(g, h, w).tanh(), null));
            return [output, h];
        });
        t.Multi("aten.rnn_relu.input", a =>
        {
            var (output, h, _) = Recurrent(a, a.Tensor("hx"), null, (g, h, _, w) => (Hidden(g, h, w).relu(), null));
            return [output, h];
        });
    }

    private sealed record RecurrentWeights(Tensor InputHidden, Tensor HiddenHidden, Tensor? InputBias, Tensor? HiddenBias, Tensor? Projection);

    private static (Tensor Output, Tensor H, Tensor? C) Recurrent(NodeArguments a, Tensor h0, Tensor? c0, Cell cell)
    {
        var input = a.Tensor("input");
        var weights = a.Tensors("params");
        var hasBiases = a.Bool("has_biases", true);
        var layers = (int)a.Long("num_layers");
        var directions = a.Bool("bidirectional", false) ? 2 : 1;
        var batchFirst = a.Bool("batch_first", false);
        var perDirection = weights.Length / (layers * directions);
        var projected = perDirection == (hasBiases ? 5 : 3);
        var unbatched = input.dim() == 2;

        using var scope = NewDisposeScope();
        // Work in (time, batch, features).
        var x = unbatched ? input.unsqueeze(1) : batchFirst ? input.transpose(0, 1) : input.alias();
        var hInit = unbatched ? h0.unsqueeze(1) : h0;
        var cInit = c0 is null ? null : unbatched ? c0.unsqueeze(1) : c0;
        var finalH = new List<Tensor>();
        var finalC = new List<Tensor>();
        for (var layer = 0; layer < layers; layer++)
        {
            var outputs = new List<Tensor>();
            for (var direction = 0; direction < directions; direction++)
            {
                var index = (layer * directions) + direction;
                var w = Slot(weights, index * perDirection, hasBiases, projected);
                var inputGates = F.linear(x, w.InputHidden, w.InputBias);
                var h = hInit[index];
                var c = cInit?[index];
                var steps = new Tensor[x.size(0)];
                for (var i = 0; i < steps.Length; i++)
                {
                    var time = direction == 0 ? i : steps.Length - 1 - i;
                    (h, c) = cell(inputGates[time], h, c, w);
                    steps[time] = h;
                }

                outputs.Add(stack(steps));
                finalH.Add(h);
                if (c is not null)
                {
                    finalC.Add(c);
                }
            }

            x = directions == 1 ? outputs[0] : cat(outputs, -1);
            if (a.Bool("train", false) && layer < layers - 1 && a.Double("dropout", 0) > 0)
            {
                x = F.dropout(x, a.Double("dropout", 0), training: true);
            }
        }

        var output = unbatched ? x.squeeze(1) : batchFirst ? x.transpose(0, 1) : x;
        var hn = unbatched ? stack(finalH).squeeze(1) : stack(finalH);
        var cn = c0 is null ? null : unbatched ? stack(finalC).squeeze(1) : stack(finalC);
        scope.MoveToOuter(output, hn);
        if (cn is not null)
        {
            scope.MoveToOuter(cn);
        }

        return (output, hn, cn);
    }

    private static RecurrentWeights Slot(Tensor[] weights, int offset, bool hasBiases, bool projected) => new(
        weights[offset],
        weights[offset + 1],
        hasBiases ? weights[offset + 2] : null,
        hasBiases ? weights[offset + 3] : null,
        projected ? weights[offset + (hasBiases ? 4 : 2)] : null);

    private static Tensor Hidden(Tensor inputGates, Tensor h, RecurrentWeights w) => inputGates.add(F.linear(h, w.HiddenHidden, w.HiddenBias));

    private static (Tensor H, Tensor? C) LstmCell(Tensor inputGates, Tensor h, Tensor? c, RecurrentWeights w)
    {
        var gates = Hidden(inputGates, h, w).chunk(4, -1);
        var cell = gates[1].sigmoid().mul(c!).add(gates[0].sigmoid().mul(gates[2].tanh()));
        var hidden = gates[3].sigmoid().mul(cell.tanh());
        return (w.Projection is null ? hidden : F.linear(hidden, w.Projection), cell);
    }

    private static (Tensor H, Tensor? C) GruCell(Tensor inputGates, Tensor h, Tensor? c, RecurrentWeights w)
    {
        var gi = inputGates.chunk(3, -1);
        var gh = F.linear(h, w.HiddenHidden, w.HiddenBias).chunk(3, -1);
        var reset = gi[0].add(gh[0]).sigmoid();
        var update = gi[1].add(gh[1]).sigmoid();
        var candidate = gi[2].add(reset.mul(gh[2])).tanh();
        // (1 - z) * n + z * h = n + z * (h - n)
        return (candidate.add(update.mul(h.sub(candidate))), null);
    }
}
