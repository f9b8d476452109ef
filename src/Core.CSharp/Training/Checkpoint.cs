using System.Text;
using System.Text.Json;
using NeuralVision.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralVision.Training;

/// <summary>A checkpoint or weights file is missing, damaged or does not fit the model; the message says which and what to do.</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Saving and loading weights and whole training states. Every write goes to a temporary file in the
/// target's folder, is flushed to disk, then renamed over the target, so a crash mid-write never
/// replaces a good file with a torn one.
/// </summary>
public static class Checkpoint
{
    const string Magic = "NVCK";
    const int Version = 2;

    sealed record Header(int Epoch, long Step, double LastLoss, string Optimizer, string Model);

    /// <summary>Saves the model's parameters and buffers (TorchSharp's format, readable by <c>Module.load</c>).</summary>
    public static void SaveWeights(Model model, string path) =>
        WriteAtomically(path, writer => model.Module.save(writer));

    /// <summary>Loads weights saved by <see cref="SaveWeights"/> into a model of the same architecture.</summary>
    public static void LoadWeights(Model model, string path) =>
        Read(path, model, reader => model.Module.load(reader));

    /// <summary>
    /// Loads a PyTorch state dict (a file written by <c>torch.save(model.state_dict(), path)</c>, read with
    /// TorchSharp.PyBridge) into the model by name: each of the model's parameter and buffer names is turned
    /// into the file's name by <paramref name="toPyTorchName"/> (identity when null). Every name must be found
    /// with the same shape, and every tensor in the file used; otherwise nothing is loaded and the error lists the misfits.
    /// </summary>
    public static void LoadPyTorch(Model model, string path, Func<string, string>? toPyTorchName = null)
    {
        if (!File.Exists(path)) throw new CheckpointException($"{path}: no such PyTorch state dict.");
        System.Collections.Hashtable file;
        try { file = TorchSharp.PyBridge.PyTorchUnpickler.UnpickleStateDict(path); }
        catch (Exception e) when (e is NotSupportedException or InvalidDataException or IOException or InvalidCastException)
        {
            throw new CheckpointException($"{path} is not a PyTorch state dict saved with torch.save: {e.Message}", e);
        }
        var ours = model.Module.state_dict();
        var rename = toPyTorchName ?? (n => n);
        var pairs = ours.Select(kv => (Ours: kv.Key, Theirs: rename(kv.Key), Target: kv.Value)).ToList();
        var missing = pairs.Where(p => !file.ContainsKey(p.Theirs)).Select(p => p.Theirs).ToList();
        var misshapen = pairs.Where(p => file[p.Theirs] is Tensor t && !t.shape.SequenceEqual(p.Target.shape))
            .Select(p => $"{p.Theirs} [{string.Join(", ", ((Tensor)file[p.Theirs]!).shape)}] for [{string.Join(", ", p.Target.shape)}]").ToList();
        var unused = file.Keys.Cast<string>().Except(pairs.Select(p => p.Theirs)).ToList();
        if (missing.Count + misshapen.Count + unused.Count > 0)
            throw new CheckpointException($"{path} does not fit the model: " +
                (missing.Count > 0 ? $"missing {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? $" (+{missing.Count - 5})" : "")}; " : "") +
                (misshapen.Count > 0 ? $"other shapes {string.Join(", ", misshapen.Take(5))}; " : "") +
                (unused.Count > 0 ? $"not in the model {string.Join(", ", unused.Take(5))}{(unused.Count > 5 ? $" (+{unused.Count - 5})" : "")}" : ""));
        using var noGrad = no_grad();
        foreach (var (_, theirs, target) in pairs) target.copy_((Tensor)file[theirs]!);
    }

    /// <summary>
    /// Saves everything a run needs to resume exactly: weights, optimiser state (moments, step counts,
    /// learning rates), epoch and step, and libtorch's random state. When several ranks train together only
    /// rank 0 writes (every rank holds the same state); each rank reads the file when resuming.
    /// </summary>
    public static void Save(TrainState state, string path)
    {
        state.EnsureLive("save a checkpoint of it");
        if (!state.Ranks.IsRoot) return;
        WriteAtomically(path, writer =>
        {
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(JsonSerializer.Serialize(new Header(state.Epoch, state.Step, state.LastLoss, UpdateRule(state.Updater), state.Model.Spec.ToString())));
            state.Model.Module.save(writer);
            ((OptimizerHelper)state.Updater).save_state_dict(writer);
            using var rng = get_rng_state();
            rng.Save(writer);
        });
    }

    /// <summary>
    /// The update rule as TorchSharp names it ("Adam"), whose state the file holds: an updater of ours that only
    /// computes a TorchSharp rule faster (<see cref="Optim.FusedAdam"/>) keeps its state and its name.
    /// </summary>
    static string UpdateRule(optim.Optimizer updater)
    {
        var type = updater.GetType();
        while (type.Assembly != typeof(OptimizerHelper).Assembly && type.BaseType is { } parent) type = parent;
        return type.Name;
    }

    /// <summary>
    /// Restores a state saved by <see cref="Save"/> into <paramref name="fresh"/> (the same model and
    /// optimiser set-up, e.g. from <see cref="Train.Start"/>); returns the state to continue from.
    /// </summary>
    public static TrainState Load(string path, TrainState fresh)
    {
        fresh.EnsureLive("resume a checkpoint into it");
        Header? header = null;
        Read(path, fresh.Model, reader =>
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException("it is not a NeuralVision checkpoint (no NVCK mark)");
            var version = reader.ReadInt32();
            if (version != Version) throw new InvalidDataException($"it has format version {version}; this library reads {Version}");
            header = JsonSerializer.Deserialize<Header>(reader.ReadString()) ?? throw new InvalidDataException("its header is empty");
            if (header.Optimizer != UpdateRule(fresh.Updater))
                throw new CheckpointException($"{path} holds a {header.Optimizer} state but the run uses {UpdateRule(fresh.Updater)}; resume with the same optimiser.");
            fresh.Model.Module.load(reader);
            // Outside any dispose scope: restored optimiser buffers must outlive this call (see TorchSharp's OptimizerHelper).
            ((OptimizerHelper)fresh.Updater).load_state_dict(reader);
            using var rng = Tensor.Load(reader);
            set_rng_state(rng);
        });
        return fresh with { Epoch = header!.Epoch, Step = header.Step, LastLoss = header.LastLoss, EpochLossSum = 0, EpochSamples = 0 };
    }

    /// <summary>
    /// The epoch and step after which the checkpoint at <paramref name="path"/> was saved, its checksum checked
    /// first (a damaged file throws <see cref="DamagedFileException"/>): what a run resumed from it would continue after.
    /// </summary>
    public static (int Epoch, long Step) Progress(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException($"{path}: no such checkpoint file.");
        using var stream = ChecksummedFile.ReadBinary(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        if (reader.ReadString() != Magic) throw new CheckpointException($"{path} is not a NeuralVision checkpoint (no NVCK mark).");
        reader.ReadInt32();
        var header = JsonSerializer.Deserialize<Header>(reader.ReadString()) ?? throw new CheckpointException($"{path} has an empty header.");
        return (header.Epoch, header.Step);
    }

    /// <summary>
    /// Writes through <paramref name="write"/> atomically (a temporary file renamed over <paramref name="path"/>),
    /// followed by the content's SHA-256 (<see cref="ChecksummedFile"/>), so that damage is detected on loading.
    /// </summary>
    public static void WriteAtomically(string path, Action<BinaryWriter> write) =>
        ChecksummedFile.WriteBinary(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            write(writer);
            writer.Flush();
        });

    /// <summary>
    /// Reads a checkpoint into <paramref name="model"/> (and whatever else <paramref name="read"/> restores): the
    /// checksum is checked before anything is read, and if reading fails part-way the model's weights are put back.
    /// </summary>
    static void Read(string path, Model model, Action<BinaryReader> read)
    {
        if (!File.Exists(path)) throw new CheckpointException($"{path}: no such checkpoint file.");
        using var backup = new MemoryStream();
        try
        {
            using var stream = ChecksummedFile.ReadBinary(path);
            using (var writer = new BinaryWriter(backup, Encoding.UTF8, leaveOpen: true)) model.Module.save(writer);
            using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            try { read(reader); }
            catch
            {
                backup.Position = 0;
                using var restore = new BinaryReader(backup, Encoding.UTF8, leaveOpen: true);
                model.Module.load(restore);
                throw;
            }
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or ArgumentException or FormatException or JsonException or KeyNotFoundException)
        {
            throw new CheckpointException($"{path} cannot be loaded: {e.Message}. It is damaged or was saved from a different model.", e);
        }
    }
}
