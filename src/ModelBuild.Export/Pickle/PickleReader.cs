using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Export.Pickle;

/// <summary>
/// Reads the pickles torch.save and TorchScript write (protocols 2 to 5) into plain values without executing anything:
/// every global is checked against an allow-list (tensor rebuilders, storage types, OrderedDict, and for TorchScript the
/// <c>__torch__.*</c> module classes), and the few allowed callables are interpreted here. Any other global, unknown
/// opcode or truncated stream is an MB error naming the file. Nothing grows without a bound: every opcode consumes a byte,
/// and the values pushed and memoized are counted against <see cref="ModelReaderOptions.MaxPickleValues"/>.
/// </summary>
internal sealed class PickleReader
{
    private static readonly Dictionary<string, TensorDType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["torch.DoubleStorage"] = TensorDType.F64,
        ["torch.FloatStorage"] = TensorDType.F32,
        ["torch.HalfStorage"] = TensorDType.F16,
        ["torch.BFloat16Storage"] = TensorDType.BF16,
        ["torch.LongStorage"] = TensorDType.I64,
        ["torch.IntStorage"] = TensorDType.I32,
        ["torch.ShortStorage"] = TensorDType.I16,
        ["torch.CharStorage"] = TensorDType.I8,
        ["torch.ByteStorage"] = TensorDType.U8,
        ["torch.BoolStorage"] = TensorDType.BOOL,
    };

    private static readonly HashSet<string> Functions = new(StringComparer.Ordinal)
    {
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        // torch.save writes tensors that carry Python attributes (buffers saved as constants, e.g. BERT's position_ids) as
        // _rebuild_from_type_v2(_rebuild_tensor_v2, torch.Tensor, args, state).
        "torch._tensor._rebuild_from_type_v2",
        "collections.OrderedDict",
    };

    /// <summary>Types a pickle may name as an argument (never instantiate): the plain tensor type of _rebuild_from_type_v2.</summary>
    private static readonly HashSet<string> ArgumentTypes = new(StringComparer.Ordinal) { "torch.Tensor" };

    /// <summary>TorchScript's typed-container helpers: each returns its first argument.</summary>
    private static readonly HashSet<string> TorchScriptFunctions = new(StringComparer.Ordinal)
    {
        "torch.jit._pickle.restore_type_tag",
        "torch.jit._pickle.build_intlist",
        "torch.jit._pickle.build_doublelist",
        "torch.jit._pickle.build_boollist",
        "torch.jit._pickle.build_tensorlist",
    };

    private readonly byte[] _data;
    private readonly string _file;
    private readonly string _entry;
    private readonly int _maxValues;
    private readonly bool _allowTorchScriptClasses;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;
    private int _values;

    private PickleReader(byte[] data, string file, string entry, int maxValues, bool allowTorchScriptClasses)
    {
        _data = data;
        _file = file;
        _entry = entry;
        _maxValues = maxValues;
        _allowTorchScriptClasses = allowTorchScriptClasses;
    }

    /// <summary>
    /// The value the pickle holds, built from at most <paramref name="maxValues"/> values. Errors name the model
    /// <paramref name="file"/> and the pickle's <paramref name="entry"/> in it. <paramref name="allowTorchScriptClasses"/>
    /// admits <c>__torch__.*</c> classes.
    /// </summary>
    public static object? Load(byte[] data, string file, string entry, int maxValues, bool allowTorchScriptClasses = false)
    {
        var reader = new PickleReader(data, file, entry, maxValues, allowTorchScriptClasses);
        try
        {
            return reader.Run();
        }
        catch (Exception e) when (e is InvalidCastException or ArgumentException or OverflowException or FormatException or IndexOutOfRangeException)
        {
            throw reader.Malformed($"it is not a pickle ModelBuild can interpret ({e.Message})");
        }
    }

    private object? Run()
    {
        while (true)
        {
            var at = _pos;
            var op = Byte();
            switch (op)
            {
                case 0x80: // PROTO
                    var protocol = Byte();
                    if (protocol > 5)
                    {
                        throw Malformed($"it uses pickle protocol {protocol}");
                    }
                    break;
                case 0x95: // FRAME
                    Take(8);
                    break;
                case (byte)'.': // STOP
                    return Pop();
                case (byte)'(': // MARK
                    _marks.Add(_stack.Count);
                    break;
                case (byte)'}': // EMPTY_DICT
                    Push(new PickleDict());
                    break;
                case (byte)']': // EMPTY_LIST
                    Push(new List<object?>());
                    break;
                case (byte)')': // EMPTY_TUPLE
                    Push(new PickleTuple([]));
                    break;
                case (byte)'t': // TUPLE
                    Push(new PickleTuple(PopMark()));
                    break;
                case 0x85: // TUPLE1
                    Push(new PickleTuple([Pop()]));
                    break;
                case 0x86: // TUPLE2
                {
                    var b = Pop();
                    var a = Pop();
                    Push(new PickleTuple([a, b]));
                    break;
                }
                case 0x87: // TUPLE3
                {
                    var c = Pop();
                    var b = Pop();
                    var a = Pop();
                    Push(new PickleTuple([a, b, c]));
                    break;
                }
                case (byte)'l': // LIST
                    Push(PopMark());
                    break;
                case (byte)'d': // DICT
                {
                    var items = PopMark();
                    var dict = new PickleDict();
                    for (var i = 0; i + 1 < items.Count; i += 2)
                    {
                        dict.Set(items[i], items[i + 1]);
                    }
                    Push(dict);
                    break;
                }
                case (byte)'q': // BINPUT
                    Memoize(Byte());
                    break;
                case (byte)'r': // LONG_BINPUT
                    Memoize(UInt32());
                    break;
                case 0x94: // MEMOIZE
                    Memoize(_memo.Count);
                    break;
                case (byte)'h': // BINGET
                    Push(Memo(Byte()));
                    break;
                case (byte)'j': // LONG_BINGET
                    Push(Memo(UInt32()));
                    break;
                case (byte)'J': // BININT
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4)));
                    break;
                case (byte)'K': // BININT1
                    Push((long)Byte());
                    break;
                case (byte)'M': // BININT2
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2)));
                    break;
                case 0x8a: // LONG1
                    Push(Long(Byte()));
                    break;
                case (byte)'I': // INT (protocol 0, also True/False as 01/00)
                    Push(TextInt());
                    break;
                case (byte)'G': // BINFLOAT
                    Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8)));
                    break;
                case (byte)'X': // BINUNICODE
                    Push(Utf8(UInt32()));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(Utf8(Byte()));
                    break;
                case 0x8d: // BINUNICODE8
                    Push(Utf8(UInt64()));
                    break;
                case (byte)'U': // SHORT_BINSTRING
                    Push(Encoding.Latin1.GetString(Take(Byte())));
                    break;
                case (byte)'T': // BINSTRING
                    Push(Encoding.Latin1.GetString(Take(UInt32())));
                    break;
                case (byte)'C': // SHORT_BINBYTES
                    Push(Take(Byte()).ToArray());
                    break;
                case (byte)'B': // BINBYTES
                    Push(Take(UInt32()).ToArray());
                    break;
                case (byte)'N': // NONE
                    Push(null);
                    break;
                case 0x88: // NEWTRUE
                    Push(true);
                    break;
                case 0x89: // NEWFALSE
                    Push(false);
                    break;
                case (byte)'c': // GLOBAL
                {
                    var module = Line();
                    var name = Line();
                    Push(Global(module, name));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop() as string ?? throw Malformed("STACK_GLOBAL needs string names");
                    var module = Pop() as string ?? throw Malformed("STACK_GLOBAL needs string names");
                    Push(Global(module, name));
                    break;
                }
                case (byte)'R': // REDUCE
                {
                    var args = Pop() as PickleTuple ?? throw Malformed("REDUCE needs an argument tuple");
                    var callable = Pop() as PickleGlobal ?? throw Malformed("REDUCE needs a global to call");
                    Push(Call(callable, args.Items));
                    break;
                }
                case 0x81: // NEWOBJ
                {
                    var args = Pop() as PickleTuple ?? throw Malformed("NEWOBJ needs an argument tuple");
                    var type = Pop() as PickleGlobal ?? throw Malformed("NEWOBJ needs a class");
                    Push(NewObject(type, args.Items));
                    break;
                }
                case (byte)'b': // BUILD
                {
                    var state = Pop();
                    switch (Peek())
                    {
                        case PickleObject obj:
                            obj.State = state;
                            break;
                        case PickledTensor:
                            break;
                        default:
                            throw Malformed("BUILD applies to something other than an object");
                    }
                    break;
                }
                case (byte)'Q': // BINPERSID
                    Push(PersistentLoad(Pop()));
                    break;
                case (byte)'s': // SETITEM
                {
                    var value = Pop();
                    var key = Pop();
                    (Peek() as PickleDict ?? throw Malformed("SETITEM on something other than a dict")).Set(key, value);
                    break;
                }
                case (byte)'u': // SETITEMS
                {
                    var items = PopMark();
                    var dict = Peek() as PickleDict ?? throw Malformed("SETITEMS on something other than a dict");
                    for (var i = 0; i + 1 < items.Count; i += 2)
                    {
                        dict.Set(items[i], items[i + 1]);
                    }
                    break;
                }
                case (byte)'a': // APPEND
                {
                    var value = Pop();
                    (Peek() as List<object?> ?? throw Malformed("APPEND on something other than a list")).Add(value);
                    break;
                }
                case (byte)'e': // APPENDS
                {
                    var items = PopMark();
                    (Peek() as List<object?> ?? throw Malformed("APPENDS on something other than a list")).AddRange(items);
                    break;
                }
                case (byte)'0': // POP
                    Pop();
                    break;
                case (byte)'1': // POP_MARK
                    PopMark();
                    break;
                case (byte)'2': // DUP
                    Push(Peek());
                    break;
                default:
                    throw Malformed($"opcode 0x{op:x2} at byte {at} is not one ModelBuild reads");
            }
        }
    }

    private PickleGlobal Global(string module, string name)
    {
        var global = new PickleGlobal(module, name);
        var full = global.FullName;
        var allowed = Functions.Contains(full) || StorageTypes.ContainsKey(full) || TorchScriptFunctions.Contains(full) || ArgumentTypes.Contains(full) ||
            (_allowTorchScriptClasses && (module == "__torch__" || module.StartsWith("__torch__.", StringComparison.Ordinal)));
        if (!allowed)
        {
            throw new ModelBuildException(DiagnosticCodes.PickleGlobalNotAllowed,
                $"The pickle '{_entry}' names the global '{Excerpt(full)}', which is not on ModelBuild's allow-list of tensor and container types; it was not loaded.", _file);
        }
        return global;
    }

    private object? Call(PickleGlobal callable, IReadOnlyList<object?> args)
    {
        switch (callable.FullName)
        {
            case "collections.OrderedDict":
                return new PickleDict();
            case "torch._utils._rebuild_tensor_v2":
            {
                var storage = args[0] as StorageRef ?? throw Malformed("_rebuild_tensor_v2 needs a storage");
                var offset = args[1] as long? ?? throw Malformed("_rebuild_tensor_v2 needs an integer storage offset");
                var sizes = Longs(args[2]);
                var strides = Longs(args[3]);
                var layout = new StoredTensor(storage.DType, sizes, strides, offset);
                layout.Validate($"A tensor of the pickle '{_entry}'", _file);
                return new PickledTensor(storage, layout);
            }
            case "torch._utils._rebuild_parameter" or "torch._utils._rebuild_parameter_with_state":
                return args[0] as PickledTensor ?? throw Malformed("_rebuild_parameter needs a tensor");
            case "torch._tensor._rebuild_from_type_v2":
            {
                // The Python attributes in args[3] (e.g. _is_buffer) do not change the tensor's bytes.
                if (args.Count < 3 || args[0] is not PickleGlobal { FullName: "torch._utils._rebuild_tensor_v2" } rebuild
                    || args[1] is not PickleGlobal { FullName: "torch.Tensor" } || args[2] is not PickleTuple rebuildArgs)
                {
                    throw Malformed("_rebuild_from_type_v2 is supported for plain tensors rebuilt by _rebuild_tensor_v2 only");
                }
                return Call(rebuild, rebuildArgs.Items);
            }
            case var name when TorchScriptFunctions.Contains(name):
                return args[0];
            default:
                throw Malformed($"'{Excerpt(callable.FullName)}' is a type, not a function to call");
        }
    }

    private PickleObject NewObject(PickleGlobal type, IReadOnlyList<object?> args)
    {
        if (Functions.Contains(type.FullName) || TorchScriptFunctions.Contains(type.FullName) || StorageTypes.ContainsKey(type.FullName)
            || ArgumentTypes.Contains(type.FullName) || args.Count != 0)
        {
            throw Malformed($"'{Excerpt(type.FullName)}' cannot be instantiated here");
        }
        return new PickleObject(type);
    }

    /// <summary>torch.save's persistent ids: ('storage', StorageType, key, location, numel).</summary>
    private StorageRef PersistentLoad(object? pid)
    {
        if (pid is PickleTuple { Items: ["storage", PickleGlobal type, var key, _, long count] } &&
            StorageTypes.TryGetValue(type.FullName, out var dtype) && key is string or long)
        {
            if (count < 0 || count > StoredTensor.MaxElements)
            {
                throw new ModelBuildException(DiagnosticCodes.TensorSizeInvalid, $"A storage of the pickle '{_entry}' claims {count} elements.", _file);
            }
            return new StorageRef(Convert.ToString(key, CultureInfo.InvariantCulture)!, dtype, count);
        }
        throw Malformed("a persistent id is not a torch storage reference");
    }

    private List<long> Longs(object? value) =>
        (value as PickleTuple ?? throw Malformed("sizes and strides must be tuples")).Items
            .Select(i => i as long? ?? throw Malformed("sizes and strides must be integers")).ToList();

    private void Push(object? value)
    {
        Count();
        _stack.Add(value);
    }

    private void Memoize(long key)
    {
        Count();
        _memo[key] = Peek();
    }

    private void Count()
    {
        if (++_values > _maxValues)
        {
            throw new ModelBuildException(DiagnosticCodes.PickleTooLarge,
                $"The pickle '{_entry}' builds more than {_maxValues} values (ModelReaderOptions.MaxPickleValues); it was not read further.", _file);
        }
    }

    private object? Peek() => _stack.Count > (_marks.Count > 0 ? _marks[^1] : 0) ? _stack[^1] : throw Malformed("its stack underflows");

    private object? Pop()
    {
        var value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0)
        {
            throw Malformed("it closes a MARK it never opened");
        }
        var mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? Memo(long key) => _memo.TryGetValue(key, out var v) ? v : throw Malformed($"it reads memo {key}, which was never stored");

    private byte Byte() => Take(1)[0];

    private long UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    private long UInt64()
    {
        var v = BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        return v > int.MaxValue ? throw Malformed("a string claims more than 2 GiB") : (long)v;
    }

    private ReadOnlySpan<byte> Take(long count)
    {
        if (count < 0 || count > _data.Length - _pos)
        {
            throw Malformed("it is truncated");
        }
        var span = _data.AsSpan(_pos, (int)count);
        _pos += (int)count;
        return span;
    }

    private string Utf8(long count) => Encoding.UTF8.GetString(Take(count));

    private long Long(int count)
    {
        var value = new BigInteger(Take(count), isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : throw Malformed("an integer does not fit in 64 bits");
    }

    private string Line()
    {
        var end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0)
        {
            throw Malformed("it is truncated");
        }
        var line = Encoding.UTF8.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return line;
    }

    private object TextInt()
    {
        var line = Line();
        return line switch
        {
            "01" => true,
            "00" => false,
            _ => long.TryParse(line, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : throw Malformed($"'{Excerpt(line)}' is not an integer"),
        };
    }

    /// <summary>Names and lines come from the file and may be megabytes long; messages quote the start.</summary>
    private static string Excerpt(string text) => text.Length <= 200 ? text : text[..200] + "...";

    private ModelBuildException Malformed(string why) =>
        new(DiagnosticCodes.PickleMalformed, $"The pickle '{_entry}' cannot be read: {why}.", _file);
}
