"""A zoo of real architectures (timm, torchvision, transformers, torchaudio, torch.nn) with random weights and
reduced configurations (at most MAX_PARAMS parameters each), exported as fixture folders.

For each model: eval mode; BatchNorm calibrated (running statistics of random opt-shaped batches) and the classifier
re-drawn if the outputs are still tiny, so that outputs are O(1) (their std is recorded); then torch.export with a
dynamic batch and, where the model allows, a dynamic sequence or spatial size, falling back to batch-only and then
static shapes. Writes OUTDIR/zoo/<name>/ (model.pt2, model.onnx, model.ts.pt where they work, cases.safetensors with
min/opt/max, fixture.json with family, library, config, dynamic, output_std and eager_cpu2_us, the eager fp32 CPU
latency at opt with 2 threads) and OUTDIR/zoo/index.json (every attempted model, its status and reason).

Each model runs in its own spawned process (killed after --timeout s); --workers of them at once, within --budget.
Usage: python3 make_zoo.py OUTDIR --budget SECONDS [--workers 14] [--timeout 240] [--only a,b]
"""
import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import common  # noqa: E402
from common import log  # noqa: E402

MAX_PARAMS = 1_500_000
# Weights and float inputs are rounded to values that bfloat16 represents exactly (still stored as float32): the
# models are as real as before (random weights either way) and their files compress about twice as well, which is
# what lets the zoo travel back from the GPU machine (64 MiB per call).
BATCH = (1, 2, 8)  # min, opt, max
# started first: their exports (and ONNX exports) take longest, and the budget may cut the tail of the queue
SLOW_FIRST = {"transformers": 0, "torchaudio": 1, "torch.nn": 2}


def bf16_exact(t):
    """t rounded to the nearest bfloat16 value, kept in its own dtype (see MAX_PARAMS)."""
    return t.to(__import__("torch").bfloat16).to(t.dtype) if t.is_floating_point() else t


def round_state_to_bf16(model):
    """Every float parameter and buffer rounded in place to the nearest bfloat16 value (see MAX_PARAMS)."""
    import torch
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(bf16_exact(t))


# ================================================================ inputs
class Inputs:
    """How to make a model's inputs and their dynamic shapes.

    make(batch, size) -> tuple of tensors; `sizes` = (min, opt, max) of the model's second dynamic dim (sequence
    length or image side) or None when only the batch can vary; dims(level, batch_dim, size_dim) -> the
    dynamic_shapes tuple for level "full" (batch and size) or "batch"."""

    def __init__(self, kind, make, sizes, dims, size_name="size", step=1):
        self.kind, self.make, self.sizes, self.dims = kind, make, sizes, dims
        self.size_name, self.step = size_name, step

    def opt_size(self):
        return self.sizes[1] if self.sizes else None

    def dynamic_shapes(self, level):
        from torch.export import Dim
        if level == "static":
            return None
        batch = Dim("batch", min=BATCH[0], max=BATCH[2])
        size = None
        if level == "full":
            size = Dim(self.size_name, min=self.sizes[0] // self.step, max=self.sizes[2] // self.step)
            size = self.step * size if self.step > 1 else size
        return self.dims(level, batch, size)

    def cases(self, level):
        """min/opt/max inputs for an export at `level` (static programs get the opt shape three times)."""
        opt = self.opt_size()
        if level == "static":
            return {c: self.make(BATCH[1], opt) for c in ("min", "opt", "max")}
        sizes = self.sizes if level == "full" else (opt, opt, opt)
        return {c: self.make(b, s) for c, b, s in zip(("min", "opt", "max"), BATCH, sizes)}


def images(side=64, sizes=(64, 64, 96), step=32):
    """(B, 3, H, W) N(0,1); with sizes, H and W are both `step` * a dynamic dim (kept square in the cases)."""
    import torch

    def make(b, s):
        return (bf16_exact(torch.randn(b, 3, s or side, s or side)),)

    def dims(level, batch, size):
        if level == "full":
            from torch.export import Dim
            w = step * Dim("w", min=sizes[0] // step, max=sizes[2] // step)
            return ({0: batch, 2: size, 3: w},)
        return ({0: batch},)

    return Inputs("image", make, sizes, dims, size_name=f"h{step}", step=step)


def tokens(vocab, sizes=(4, 16, 64), low=3):
    """input_ids in [low, vocab) and an attention mask of ones whose later rows end in zeros."""
    import torch

    def make(b, s):
        ids = torch.randint(low, vocab, (b, s))
        mask = torch.ones(b, s, dtype=torch.int64)
        for i in range(1, b):
            mask[i, s - (i % max(1, s // 2)):] = 0
        return ids, mask

    def dims(level, batch, size):
        d = {0: batch, 1: size} if level == "full" else {0: batch}
        return (d, dict(d))

    return Inputs("tokens", make, sizes, dims, size_name="seq")


def frames(features, sizes=(8, 32, 64), layout="btf", lengths=False, fixed=None, tail=0):
    """Float frames: layout btf (B, T, F), bft (B, F, T) or b1tf (B, 1, T, F); optional int64 lengths (B,) of the
    valid frames, at most T - tail (Emformer's input ends in `tail` right-context frames)."""
    import torch
    axis = {"btf": 1, "bft": 2, "b1tf": 2}[layout]

    def make(b, s):
        t = fixed or s
        shape = {"btf": (b, t, features), "bft": (b, features, t), "b1tf": (b, 1, t, features)}[layout]
        x = bf16_exact(torch.randn(*shape))
        if not lengths:
            return (x,)
        valid = t - tail
        return x, torch.tensor([valid - (i % max(1, valid // 4)) for i in range(b)], dtype=torch.int64)

    def dims(level, batch, size):
        d = {0: batch, axis: size} if level == "full" else {0: batch}
        return (d, {0: batch}) if lengths else (d,)

    return Inputs("frames", make, None if fixed else sizes, dims, size_name="time")


def waveform(sizes=(400, 800, 1600)):
    import torch

    def dims(level, batch, size):
        return ({0: batch, 1: size} if level == "full" else {0: batch},)

    return Inputs("audio", lambda b, s: (bf16_exact(torch.randn(b, s)),), sizes, dims, size_name="samples")


def seq2seq(d_model, sizes=(4, 16, 32)):
    """src (B, S, D) and tgt (B, T, D), S and T independent dims."""
    import torch

    def make(b, s):
        return bf16_exact(torch.randn(b, s, d_model)), bf16_exact(torch.randn(b, max(2, s // 2), d_model))

    def dims(level, batch, size):
        if level != "full":
            return ({0: batch}, {0: batch})
        from torch.export import Dim
        return ({0: batch, 1: size}, {0: batch, 1: Dim("tgt", min=2, max=sizes[2] // 2)})

    return Inputs("seq2seq", make, sizes, dims, size_name="src")


# ================================================================ model builders
def timm_create(name):
    def build(**kw):
        import timm
        return timm.create_model(name, pretrained=False, num_classes=10, **kw)
    return build


def timm_class(module, cls, **fixed):
    """A timm class built directly (for families whose entrypoints fix the kwargs we need to reduce)."""
    def build(**kw):
        import importlib
        return getattr(importlib.import_module(f"timm.models.{module}"), cls)(num_classes=10, **fixed, **kw)
    return build


def timm_cspnet(**kw):
    from timm.models.cspnet import CspNet, _cs3_cfg
    return CspNet(_cs3_cfg(**kw), num_classes=10)


def tv(fn_name, **fixed):
    def build(**kw):
        import torchvision
        return getattr(torchvision.models, fn_name)(num_classes=10, **fixed, **kw)
    return build


def tv_resnet(block, widths=(16, 32, 64, 128), **block_kw):
    """ResNet topology from torchvision's BasicBlock/Bottleneck classes with one narrow block per stage."""
    import torch.nn as nn
    from torchvision.models import resnet
    blk = getattr(resnet, block)
    layers, cin = [nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1)], 16
    for i, w in enumerate(widths):
        stride, cout = (1 if i == 0 else 2), w * blk.expansion
        down = None if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        layers.append(blk(cin, w, stride, down, **block_kw))
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))


def tv_efficientnet(width_mult, depth_mult):
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
    setting, last = _efficientnet_conf("efficientnet_b0", width_mult=width_mult, depth_mult=depth_mult)
    return EfficientNet(setting, 0.2, last_channel=last, num_classes=10)


def tv_regnet(**kw):
    from torchvision.models.regnet import BlockParams, RegNet
    return RegNet(BlockParams.from_init_params(**kw), num_classes=10, stem_width=16)


def tv_convnext(stages, layer_scale):
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    return ConvNeXt([CNBlockConfig(*s) for s in stages], layer_scale=layer_scale, num_classes=10)


def tv_inception_mini():
    """GoogLeNet's Inception block (torchvision class) twice over a small stem."""
    import torch.nn as nn
    from torchvision.models.googlenet import BasicConv2d, Inception
    return nn.Sequential(BasicConv2d(3, 32, kernel_size=3, stride=2, padding=1), nn.MaxPool2d(3, 2, ceil_mode=True),
                         Inception(32, 16, 16, 32, 8, 8, 8), Inception(64, 32, 24, 48, 8, 16, 16),
                         nn.MaxPool2d(3, 2, ceil_mode=True), Inception(112, 32, 32, 64, 8, 16, 16),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))


def tv_vgg_tiny():
    import torch.nn as nn
    from torchvision.models.vgg import make_layers
    return nn.Sequential(make_layers([16, "M", 32, "M", 64, 64, "M", 128, 128, "M"], batch_norm=True),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(128, 10))


def alexnet_tiny():
    """AlexNet's layer pattern (large strided stem, LRN-free, dropout MLP head) at a fraction of the width."""
    import torch.nn as nn
    return nn.Sequential(
        nn.Conv2d(3, 24, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(24, 48, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(48, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Dropout(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def tv_class(module, cls):
    def build(**kw):
        import importlib
        return getattr(importlib.import_module(f"torchvision.models.{module}"), cls)(num_classes=10, **kw)
    return build


def hf_config(cfg_cls, kw):
    import transformers
    return getattr(transformers, cfg_cls)(**kw)


def hf_text(model_cls, cfg_cls, keys=("last_hidden_state",), call=None):
    """A transformers text model over (input_ids, attention_mask), returning the named output fields."""
    def build(**kw):
        import torch.nn as nn
        import transformers

        class HfText(nn.Module):
            def __init__(self):
                super().__init__()
                self.m = getattr(transformers, model_cls)(hf_config(cfg_cls, kw))

            def forward(self, input_ids, attention_mask):
                out = self.m(input_ids=input_ids, attention_mask=attention_mask, **(call or {}))
                return tuple(getattr(out, k) for k in keys)

        return HfText()
    return build


def hf_image(model_cls, cfg_cls, keys=("logits",)):
    def build(**kw):
        import torch.nn as nn
        import transformers

        class HfImage(nn.Module):
            def __init__(self):
                super().__init__()
                self.m = getattr(transformers, model_cls)(hf_config(cfg_cls, kw))

            def forward(self, pixel_values):
                out = self.m(pixel_values=pixel_values)
                return tuple(getattr(out, k) for k in keys)

        return HfImage()
    return build


def hf_whisper_encoder(**kw):
    import torch.nn as nn
    import transformers

    class WhisperEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = transformers.WhisperModel(hf_config("WhisperConfig", kw)).get_encoder()

        def forward(self, input_features):
            return self.m(input_features=input_features).last_hidden_state

    return WhisperEncoder()


def ta(fn_name, with_lengths=False):
    """A torchaudio model over x (and lengths), returning its first output (they return (output, lengths))."""
    def build(**kw):
        import torch.nn as nn
        import torchaudio

        def first(out):
            return out[0] if isinstance(out, tuple) else out

        class Audio(nn.Module):
            def __init__(self):
                super().__init__()
                self.m = getattr(torchaudio.models, fn_name)(**kw)

            def forward(self, x):
                return first(self.m(x))

        class AudioWithLengths(Audio):
            def forward(self, x, lengths):
                return first(self.m(x, lengths))

        return AudioWithLengths() if with_lengths else Audio()
    return build


def nn_rnn(cell, **kw):
    import torch.nn as nn

    class Rnn(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, cell)(batch_first=True, **kw)
            self.fc = nn.Linear(kw["hidden_size"] * (2 if kw.get("bidirectional") else 1), 10)

        def forward(self, x):
            return self.fc(self.rnn(x)[0])

    return Rnn()


def nn_encoder(**kw):
    import torch.nn as nn
    layers = kw.pop("num_layers")
    return nn.TransformerEncoder(nn.TransformerEncoderLayer(batch_first=True, dropout=0.0, **kw), layers,
                                 enable_nested_tensor=False)


def nn_transformer(**kw):
    import torch.nn as nn

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.t = nn.Transformer(batch_first=True, dropout=0.0, **kw)

        def forward(self, src, tgt):
            mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1], device=tgt.device)
            return self.t(src, tgt, tgt_mask=mask, tgt_is_causal=True)

    return Seq2Seq()


# ================================================================ the zoo
class Entry:
    """A zoo model: `build(**kwargs)` is tried with each kwargs of `chain` until one builds within MAX_PARAMS."""

    def __init__(self, name, family, library, build, chain, inputs):
        self.name, self.family, self.library, self.build, self.chain, self.inputs = (
            name, family, library, build, chain, inputs)


def zoo():
    narrow = dict(channels=(16, 32, 64, 128), stem_width=16, zero_init_last=False)
    small_vit = dict(img_size=64, patch_size=8, embed_dim=96, depth=2, num_heads=3)
    text = dict(vocab_size=1000, max_position_embeddings=128)
    bert = dict(text, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128)
    decoder = dict(text, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=2)
    no_cache = {"use_cache": False}
    hf_vision = dict(image_size=32, patch_size=4, num_channels=3, hidden_size=64, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=128, num_labels=10)
    img, img_fixed = images(), images(sizes=None)
    E = Entry
    return [
        # ---- timm
        E("timm_resnet10t", "resnet-t", "timm", timm_create("resnet10t"), [narrow, {"zero_init_last": False}], img),
        E("timm_resnet18d", "resnet-d", "timm", timm_create("resnet18d"), [dict(narrow, layers=(1, 1, 1, 1))], img),
        E("timm_seresnet18", "se-resnet", "timm", timm_create("seresnet18"), [dict(narrow, layers=(1, 1, 1, 1))], img),
        E("timm_resnext", "resnext", "timm", timm_create("resnext50_32x4d"),
          [dict(layers=(1, 1, 1, 1), channels=(16, 32, 64, 128), cardinality=4, base_width=16,
                zero_init_last=False)], img),
        E("timm_regnetx", "regnet", "timm", timm_create("regnetx_002"),
          [dict(depth=6, w0=16, wa=16.0, wm=2.0, group_size=8, zero_init_last=False), {}], img),
        E("timm_regnety", "regnet-se", "timm", timm_create("regnety_002"),
          [dict(depth=6, w0=16, wa=16.0, wm=2.0, group_size=8, zero_init_last=False), {}], img),
        E("timm_tinynet_e", "efficientnet", "timm", timm_create("tinynet_e"), [{}], img),
        E("timm_mobilenetv2", "mobilenetv2", "timm", timm_create("mobilenetv2_035"), [{}], img),
        E("timm_mobilenetv3", "mobilenetv3", "timm", timm_create("mobilenetv3_small_050"), [{}], img),
        E("timm_mobilenetv4", "mobilenetv4", "timm", timm_create("mobilenetv4_conv_small_035"), [{}], img),
        E("timm_lcnet", "lcnet", "timm", timm_create("lcnet_050"), [{}], img),
        E("timm_mnasnet", "mnasnet", "timm", timm_create("mnasnet_small"), [{}], img),
        E("timm_ghostnet", "ghostnet", "timm", timm_create("ghostnet_050"), [{}], img),
        E("timm_repghostnet", "repghost", "timm", timm_create("repghostnet_050"), [{}], img),
        E("timm_mobilevit", "mobilevit", "timm", timm_create("mobilevit_xxs"), [{}], img),
        E("timm_mobilevitv2", "mobilevitv2", "timm", timm_create("mobilevitv2_050"), [{}], img),
        E("timm_convnext", "convnext", "timm", timm_create("convnext_atto"),
          [dict(depths=(1, 1, 2, 1), dims=(16, 32, 64, 128), ls_init_value=0.1)], img),
        E("timm_vit", "vit", "timm", timm_create("vit_tiny_patch16_224"), [small_vit], img_fixed),
        E("timm_deit", "deit", "timm", timm_create("deit_tiny_distilled_patch16_224"), [small_vit], img_fixed),
        E("timm_swin", "swin", "timm", timm_create("swin_tiny_patch4_window7_224"),
          [dict(img_size=64, patch_size=4, window_size=4, embed_dim=32, depths=(1, 1, 2), num_heads=(1, 2, 4))],
          img_fixed),
        E("timm_levit", "levit", "timm", timm_create("levit_128s"),
          [dict(img_size=64, embed_dim=(64, 96, 128), key_dim=16, num_heads=(2, 3, 4), depth=(1, 1, 1))], img_fixed),
        E("timm_mixer", "mlp-mixer", "timm", timm_class("mlp_mixer", "MlpMixer"),
          [dict(img_size=64, patch_size=8, num_blocks=2, embed_dim=64)], img_fixed),
        E("timm_poolformer", "metaformer", "timm", timm_class("metaformer", "MetaFormer"),
          [dict(depths=(1, 1, 1, 1), dims=(16, 32, 64, 128))], img),
        E("timm_convmixer", "convmixer", "timm", timm_class("convmixer", "ConvMixer"),
          [dict(dim=64, depth=2, kernel_size=5, patch_size=4)], img),
        E("timm_densenet", "densenet", "timm", timm_create("densenet121"),
          [dict(growth_rate=8, block_config=(2, 2, 2, 2))], img),
        E("timm_dla", "dla", "timm", timm_create("dla46_c"), [{}], img),
        E("timm_rexnet", "rexnet", "timm", timm_create("rexnet_100"),
          [dict(width_mult=0.5, depth_mult=0.5), dict(width_mult=0.35, depth_mult=0.35)], img),
        E("timm_cspnet", "cspnet", "timm", timm_cspnet, [dict(width_multiplier=0.25, depth_multiplier=0.34)], img),
        E("timm_edgenext", "edgenext", "timm", timm_create("edgenext_xx_small"), [{}], img),
        E("timm_starnet", "starnet", "timm", timm_create("starnet_s050"), [{}], img),
        # ---- torchvision
        E("tv_resnet_basic", "resnet", "torchvision", lambda: tv_resnet("BasicBlock"), [{}], img),
        E("tv_resnext_bottleneck", "resnext", "torchvision",
          lambda: tv_resnet("Bottleneck", widths=(8, 16, 32, 64), groups=4, base_width=32), [{}], img),
        E("tv_mobilenet_v2", "mobilenetv2", "torchvision", tv("mobilenet_v2"), [dict(width_mult=0.35)], img),
        E("tv_mobilenet_v3_large", "mobilenetv3", "torchvision", tv("mobilenet_v3_large"),
          [dict(width_mult=0.35, reduced_tail=True)], img),
        E("tv_squeezenet", "squeezenet", "torchvision", tv("squeezenet1_1"), [{}], img),
        E("tv_shufflenet_v2", "shufflenet", "torchvision", tv("shufflenet_v2_x0_5"), [{}], img),
        E("tv_mnasnet", "mnasnet", "torchvision", tv("mnasnet0_5"), [{}], img),
        E("tv_efficientnet", "efficientnet", "torchvision", tv_efficientnet, [dict(width_mult=0.35, depth_mult=0.5)],
          img),
        E("tv_regnet", "regnet", "torchvision", tv_regnet,
          [dict(depth=6, w_0=16, w_a=16.0, w_m=2.0, group_width=8, se_ratio=0.25)], img),
        E("tv_inception_mini", "googlenet", "torchvision", tv_inception_mini, [{}], img),
        E("tv_vgg_tiny", "vgg", "torchvision", tv_vgg_tiny, [{}], img),
        E("alexnet_tiny", "alexnet", "torch.nn", alexnet_tiny, [{}], images(side=96, sizes=(96, 96, 128))),
        E("tv_convnext", "convnext", "torchvision", tv_convnext,
          [dict(stages=((16, 32, 1), (32, 64, 1), (64, 128, 2), (128, None, 1)), layer_scale=0.1)], img),
        E("tv_vit", "vit", "torchvision", tv_class("vision_transformer", "VisionTransformer"),
          [dict(image_size=64, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128)], img_fixed),
        E("tv_swin", "swin", "torchvision", tv_class("swin_transformer", "SwinTransformer"),
          [dict(patch_size=[4, 4], embed_dim=32, depths=[1, 1, 2], num_heads=[1, 2, 4], window_size=[4, 4],
                stochastic_depth_prob=0.0)], img),
        # ---- transformers
        E("hf_bert", "bert", "transformers", hf_text("BertModel", "BertConfig", ("last_hidden_state", "pooler_output")),
          [bert], tokens(1000)),
        E("hf_distilbert", "distilbert", "transformers", hf_text("DistilBertModel", "DistilBertConfig"),
          [dict(text, dim=64, n_layers=2, n_heads=4, hidden_dim=128)], tokens(1000)),
        E("hf_roberta", "roberta", "transformers", hf_text("RobertaModel", "RobertaConfig"),
          [dict(bert, pad_token_id=1)], tokens(1000)),
        E("hf_albert", "albert", "transformers", hf_text("AlbertModel", "AlbertConfig"),
          [dict(bert, embedding_size=32)], tokens(1000)),
        E("hf_electra", "electra", "transformers", hf_text("ElectraModel", "ElectraConfig"),
          [dict(bert, embedding_size=32)], tokens(1000)),
        E("hf_mobilebert", "mobilebert", "transformers", hf_text("MobileBertModel", "MobileBertConfig"),
          [dict(bert, intermediate_size=64, embedding_size=32, intra_bottleneck_size=32, true_hidden_size=32,
                num_feedforward_networks=2)], tokens(1000)),
        E("hf_convbert", "convbert", "transformers", hf_text("ConvBertModel", "ConvBertConfig"),
          [dict(bert, embedding_size=64, head_ratio=2, conv_kernel_size=9)], tokens(1000)),
        E("hf_gpt2", "gpt2", "transformers", hf_text("GPT2Model", "GPT2Config", call=no_cache),
          [dict(vocab_size=1000, n_positions=128, n_embd=64, n_layer=2, n_head=4)], tokens(1000)),
        E("hf_gpt_neo", "gpt_neo", "transformers", hf_text("GPTNeoModel", "GPTNeoConfig", call=no_cache),
          [dict(text, hidden_size=64, num_layers=2, num_heads=4, intermediate_size=128, window_size=16,
                attention_types=[[["global", "local"], 1]])], tokens(1000)),
        E("hf_opt", "opt", "transformers", hf_text("OPTModel", "OPTConfig", call=no_cache),
          [dict(text, hidden_size=64, num_hidden_layers=2, ffn_dim=128, num_attention_heads=4,
                word_embed_proj_dim=64)], tokens(1000)),
        E("hf_llama", "llama", "transformers", hf_text("LlamaModel", "LlamaConfig", call=no_cache), [decoder],
          tokens(1000)),
        E("hf_qwen2", "qwen2", "transformers", hf_text("Qwen2Model", "Qwen2Config", call=no_cache), [decoder],
          tokens(1000)),
        E("hf_mistral", "mistral", "transformers", hf_text("MistralModel", "MistralConfig", call=no_cache),
          [dict(decoder, sliding_window=32)], tokens(1000)),
        E("hf_t5_encoder", "t5", "transformers", hf_text("T5EncoderModel", "T5Config"),
          [dict(vocab_size=1000, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4)], tokens(1000)),
        E("hf_whisper_encoder", "whisper", "transformers", hf_whisper_encoder,
          [dict(vocab_size=1000, num_mel_bins=16, encoder_layers=2, encoder_attention_heads=4, decoder_layers=1,
                decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128, d_model=64,
                max_source_positions=32, max_target_positions=32)], frames(16, layout="bft", fixed=64)),
        E("hf_vit", "vit", "transformers", hf_image("ViTForImageClassification", "ViTConfig"), [hf_vision],
          images(side=32, sizes=None)),
        E("hf_deit", "deit", "transformers", hf_image("DeiTForImageClassificationWithTeacher", "DeiTConfig"),
          [hf_vision], images(side=32, sizes=None)),
        # ---- torchaudio
        E("ta_wav2vec2", "wav2vec2", "torchaudio", ta("wav2vec2_model"),
          [dict(extractor_mode="group_norm", extractor_conv_layer_config=[(32, 10, 5), (32, 3, 2), (32, 2, 2)],
                extractor_conv_bias=False, encoder_embed_dim=64, encoder_projection_dropout=0.0,
                encoder_pos_conv_kernel=16, encoder_pos_conv_groups=4, encoder_num_layers=2, encoder_num_heads=4,
                encoder_attention_dropout=0.0, encoder_ff_interm_features=128, encoder_ff_interm_dropout=0.0,
                encoder_dropout=0.0, encoder_layer_norm_first=False, encoder_layer_drop=0.0, aux_num_out=10)],
          waveform()),
        E("ta_conformer", "conformer", "torchaudio", ta("Conformer", with_lengths=True),
          [dict(input_dim=32, num_heads=4, ffn_dim=64, num_layers=2, depthwise_conv_kernel_size=7)],
          frames(32, lengths=True)),
        E("ta_emformer", "emformer", "torchaudio", ta("Emformer", with_lengths=True),
          [dict(input_dim=32, num_heads=4, ffn_dim=64, num_layers=2, segment_length=4, right_context_length=1)],
          frames(32, lengths=True, fixed=17, tail=1)),
        E("ta_deepspeech", "deepspeech", "torchaudio", ta("DeepSpeech"),
          [dict(n_feature=32, n_hidden=64, n_class=10)], frames(32, layout="b1tf")),
        E("ta_wav2letter", "wav2letter", "torchaudio", ta("Wav2Letter"),
          [dict(num_classes=10, input_type="mfcc", num_features=13)], frames(13, layout="bft", sizes=(16, 32, 64))),
        # ---- torch.nn
        E("nn_lstm_bidir", "lstm", "torch.nn", lambda **kw: nn_rnn("LSTM", **kw),
          [dict(input_size=16, hidden_size=32, num_layers=2, bidirectional=True)], frames(16)),
        E("nn_gru", "gru", "torch.nn", lambda **kw: nn_rnn("GRU", **kw),
          [dict(input_size=16, hidden_size=32, num_layers=2)], frames(16)),
        E("nn_rnn_tanh", "rnn", "torch.nn", lambda **kw: nn_rnn("RNN", **kw),
          [dict(input_size=16, hidden_size=32, num_layers=1)], frames(16)),
        E("nn_transformer_encoder", "transformer", "torch.nn", nn_encoder,
          [dict(d_model=64, nhead=4, dim_feedforward=128, num_layers=2)], frames(64)),
        E("nn_transformer", "transformer", "torch.nn", nn_transformer,
          [dict(d_model=32, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=64)], seq2seq(32)),
    ]


# ================================================================ one model (in its own process)
def json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return repr(obj)


def build_model(entry):
    """(model, kwargs) for the first kwargs of the chain that builds within MAX_PARAMS; raises with every reason."""
    reasons = []
    for kw in entry.chain:
        try:
            model = entry.build(**kw)
        except Exception as e:  # noqa: BLE001 - try the next, smaller set of kwargs
            reasons.append(f"{json_safe(kw)}: {common.first_line(e)}")
            continue
        n = common.count_params(model)
        if n <= MAX_PARAMS:
            return model, kw
        reasons.append(f"{json_safe(kw)}: {n} params > {MAX_PARAMS}")
    raise RuntimeError("; ".join(reasons))


def export_with_fallback(model, example, inputs):
    """Exports at the most dynamic level that works: full (batch + size), batch, static."""
    import torch
    errors = {}
    levels = (["full"] if inputs.sizes else []) + ["batch", "static"]
    for level in levels:
        try:
            ep = torch.export.export(model, common.clone_tree(example), dynamic_shapes=inputs.dynamic_shapes(level))
            return ep, level, errors
        except Exception as e:  # noqa: BLE001 - fall back to fewer dynamic dims
            errors[level] = common.first_line(e)
            log(f"  export at level {level} failed: {errors[level]}")
    raise RuntimeError(f"export failed at every level: {errors}")


def eager_latency_us(model, inputs, runs=20, warmup=3):
    """Median eager fp32 CPU latency with 2 threads, in microseconds."""
    import torch
    torch.set_num_threads(2)
    try:
        times = []
        with torch.no_grad():
            for i in range(warmup + runs):
                t0 = time.perf_counter()
                model(*inputs)
                if i >= warmup:
                    times.append((time.perf_counter() - t0) * 1e6)
        return statistics.median(times)
    finally:
        torch.set_num_threads(1)


def build_one(entry, outdir):
    import torch
    torch.manual_seed(0)
    model, kw = build_model(entry)
    model.eval()
    inputs = entry.inputs
    opt = inputs.opt_size()
    checks = common.make_outputs_checkable(model, lambda: inputs.make(BATCH[1], opt))
    round_state_to_bf16(model)
    example = inputs.make(BATCH[1], opt)
    ep, level, export_errors = export_with_fallback(model, example, inputs)
    dynamic = {"full": f"batch and {inputs.kind} size", "batch": "batch", "static": "none"}[level]
    extra = dict(family=entry.family, library=entry.library, config=json_safe(kw), dynamic=dynamic,
                 dynamic_level=level, export_errors=export_errors, eager_cpu2_us=eager_latency_us(model, example),
                 **checks)
    meta = common.write_fixture(os.path.join(outdir, entry.name), entry.name, model, ep, example,
                                inputs.dynamic_shapes(level), inputs.cases(level), formats=("ts", "onnx"), extra=extra)
    return dict(status="ok", params=meta["params"], nodes=meta["nodes"], dynamic=dynamic, files=meta["files"],
                output_std=checks["output_std"], output_std_ok=checks["output_std_ok"],
                not_written=meta.get("not_written", {}))


def worker_main(name, outdir, result_path):
    import torch
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    entry = next(e for e in zoo() if e.name == name)
    t0 = time.monotonic()
    try:
        res = build_one(entry, outdir)
    except Exception as e:  # noqa: BLE001 - reported in the index
        common.print_exception(f"  {name}: FAILED")
        res = dict(status="failed", reason=common.first_line(e, 600))
    res["seconds"] = round(time.monotonic() - t0, 1)
    common.write_json(result_path, res)


# ================================================================ the parent: a bounded set of processes
def run_all(entries, outdir, workers, timeout, deadline):
    ctx = mp.get_context("spawn")
    resdir = os.path.join(outdir, ".results")
    os.makedirs(resdir, exist_ok=True)
    queue = sorted(entries, key=lambda e: SLOW_FIRST.get(e.library, len(SLOW_FIRST)))
    running, results = {}, {}
    while queue or running:
        while queue and len(running) < workers and deadline.left() > 30:
            e = queue.pop(0)
            path = os.path.join(resdir, f"{e.name}.json")
            p = ctx.Process(target=worker_main, args=(e.name, outdir, path), daemon=True)
            p.start()
            running[e.name] = (p, time.monotonic(), path)
        if not running and queue:  # no time left to start the rest
            for e in queue:
                results[e.name] = dict(status="skipped", reason="not reached: budget")
            queue.clear()
            break
        time.sleep(0.5)
        for name, (p, start, path) in list(running.items()):
            late = time.monotonic() - start > timeout or deadline.expired()
            if p.is_alive() and not late:
                continue
            if p.is_alive():
                p.kill()
                p.join(5)
                results[name] = dict(status="failed", reason=f"killed after {time.monotonic() - start:.0f} s "
                                                             f"({'budget' if deadline.expired() else 'timeout'})")
            elif os.path.exists(path):
                with open(path) as f:
                    results[name] = json.load(f)
            else:
                results[name] = dict(status="failed", reason=f"process exited with code {p.exitcode}")
            del running[name]
            log(f"  {name}: {results[name]['status']} {results[name].get('reason', '')} "
                f"({len(results)}/{len(entries)})")
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--budget", type=float, default=1800, help="wall-clock seconds for the whole run")
    ap.add_argument("--workers", type=int, default=14)
    ap.add_argument("--timeout", type=float, default=240, help="seconds per model")
    ap.add_argument("--only", default="", help="comma-separated model names")
    a = ap.parse_args()
    deadline = common.Deadline(a.budget)
    entries = zoo()
    if a.only:
        wanted = set(a.only.split(","))
        unknown = wanted - {e.name for e in entries}
        if unknown:
            ap.error(f"unknown models {sorted(unknown)}")
        entries = [e for e in entries if e.name in wanted]
    outdir = os.path.join(a.outdir, "zoo")
    os.makedirs(outdir, exist_ok=True)
    log(f"zoo: {len(entries)} models, {a.workers} workers, {a.timeout:.0f} s each, budget {a.budget:.0f} s")
    results = run_all(entries, outdir, a.workers, a.timeout, deadline)
    import torch
    index = dict(torch_version=torch.__version__, max_params=MAX_PARAMS,
                 models=[dict(name=e.name, family=e.family, library=e.library, **results.get(e.name, {}))
                         for e in entries])
    common.write_json(os.path.join(outdir, "index.json"), index)
    ok = [m["name"] for m in index["models"] if m.get("status") == "ok"]
    log(f"zoo: {len(ok)}/{len(entries)} models built")


if __name__ == "__main__":
    main()
