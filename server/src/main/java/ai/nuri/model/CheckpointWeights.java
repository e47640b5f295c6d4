package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.nuri.model.safetensors.DTypeConversions;
import ai.nuri.model.safetensors.SafetensorsDType;
import ai.nuri.model.safetensors.SafetensorsException;
import ai.nuri.model.safetensors.SafetensorsFile;
import ai.nuri.model.safetensors.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The tensors of a Hugging Face model folder: {@code model.safetensors}, or shards listed in
 * {@code model.safetensors.index.json}. Tensors are mapped and converted one at a time into the
 * model's dtype (BF16 widened in Java first). Every tensor of the checkpoint must be asked for:
 * {@link #checkAllUsed()} names any that the architecture did not expect.
 */
public final class CheckpointWeights implements WeightSource, AutoCloseable {
    /** Tensors some exporters save that carry no weights (recomputed buffers). */
    private static final Pattern IGNORABLE = Pattern.compile(".*rotary_emb\\.inv_freq$");

    private final Path folder;
    private final NDManager manager;
    private final DataType dtype;
    private final Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
    private final List<SafetensorsFile> files = new ArrayList<>();
    private final Set<String> used = new HashSet<>();

    public CheckpointWeights(Path folder, NDManager manager, DataType dtype) {
        this.folder = folder;
        this.manager = manager;
        this.dtype = dtype;
        try {
            open();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void open() {
        Path single = folder.resolve("model.safetensors");
        Path index = folder.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(single)) {
            SafetensorsFile f = openFile(single);
            f.tensors().keySet().forEach(name -> fileOf.put(name, f));
        } else if (Files.isRegularFile(index)) {
            openShards(index);
        } else {
            throw new ModelLoadException(folder + ": no weights (expected model.safetensors or model.safetensors.index.json)");
        }
    }

    private void openShards(Path index) {
        JsonNode map;
        try {
            map = new ObjectMapper().readTree(index.toFile()).path("weight_map");
        } catch (IOException e) {
            throw new ModelLoadException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!map.isObject() || map.isEmpty()) {
            throw new ModelLoadException(index + ": no 'weight_map'");
        }
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        for (var it = map.fields(); it.hasNext(); ) {
            var e = it.next();
            String shardName = e.getValue().asText();
            Path shardPath = folder.resolve(shardName).normalize();
            if (!shardPath.startsWith(folder.normalize())) {
                throw new ModelLoadException(index + ": shard '" + shardName + "' is outside the model folder");
            }
            if (!Files.isRegularFile(shardPath)) {
                throw new ModelLoadException(shardPath + ": missing (listed in " + index.getFileName() + ")");
            }
            SafetensorsFile shard = shards.computeIfAbsent(shardName, n -> openFile(shardPath));
            if (!shard.tensors().containsKey(e.getKey())) {
                throw new ModelLoadException(shardPath + ": has no tensor '" + e.getKey() + "' although "
                        + index.getFileName() + " says it does");
            }
            fileOf.put(e.getKey(), shard);
        }
    }

    private SafetensorsFile openFile(Path path) {
        try {
            SafetensorsFile f = SafetensorsFile.open(path);
            files.add(f);
            return f;
        } catch (SafetensorsException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
    }

    @Override
    public boolean contains(String name) {
        return fileOf.containsKey(name);
    }

    @Override
    public NDArray tensor(String name, Shape shape, Init init) {
        SafetensorsFile file = fileOf.get(name);
        if (file == null) {
            throw new ModelLoadException(folder + ": missing tensor '" + name + "' " + shape);
        }
        TensorInfo info = file.info(name);
        if (!new Shape(info.shape()).equals(shape)) {
            throw new ModelLoadException(file.path() + ": tensor '" + name + "' has shape " + new Shape(info.shape())
                    + " but the config implies " + shape);
        }
        if (!info.dtype().isFloatingPoint()) {
            throw new ModelLoadException(file.path() + ": tensor '" + name + "' is " + info.dtype()
                    + ", a weight must be floating point");
        }
        used.add(name);
        try {
            return load(file, info, manager, dtype);
        } catch (SafetensorsException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
    }

    /**
     * Loads one tensor into {@code manager} as {@code target}; the array owns a copy, so the
     * mapping can go. On the CPU, where no conversion in libtorch is needed, straight into the
     * tensor's memory ({@link HostTensorLoad}); otherwise through a buffer and libtorch.
     */
    public static NDArray load(SafetensorsFile file, TensorInfo info, NDManager manager, DataType target)
            throws SafetensorsException {
        DataType direct = HostTensorLoad.resultType(manager, info.dtype(), target);
        if (direct != null) {
            return HostTensorLoad.load(file, info, manager, direct);
        }
        if (info.byteSize() > SLICE_BYTES) {
            return loadInSlices(file, info, manager, target);
        }
        ByteBuffer bytes = file.map(info.name());
        Shape shape = new Shape(info.shape());
        NDArray raw = switch (info.dtype()) {
            case F32 -> manager.create(bytes, shape, DataType.FLOAT32);
            case F16 -> manager.create(bytes, shape, DataType.FLOAT16);
            case F64 -> manager.create(bytes, shape, DataType.FLOAT64);
            case BF16 -> manager.create(DTypeConversions.bf16ToFloat32(bytes), shape, DataType.FLOAT32);
            case I64 -> manager.create(bytes, shape, DataType.INT64);
            case I32 -> manager.create(bytes, shape, DataType.INT32);
            case I8 -> manager.create(bytes, shape, DataType.INT8);
            case U8 -> manager.create(bytes, shape, DataType.UINT8);
            case BOOL -> manager.create(bytes, shape, DataType.BOOLEAN);
            default -> throw new SafetensorsException(file.path(), "tensor '" + info.name() + "' has dtype "
                    + info.dtype() + ", which Nuri cannot load");
        };
        if (target == null || raw.getDataType() == target) {
            // A fresh copy: DJL may wrap a direct buffer without copying, and the mapping is released later.
            NDArray copy = raw.duplicate();
            raw.close();
            return copy;
        }
        NDArray converted = raw.toType(target, true);
        raw.close();
        return converted;
    }

    /** Tensors larger than this are read, widened and converted a slice at a time. */
    static final long SLICE_BYTES = 64L << 20;

    /**
     * A large tensor (a 256,000 × 3,072 embedding is 1.5 GiB in BF16 and 3 GiB widened; a single
     * Java buffer holds at most 2 GiB) loaded slice by slice straight into its final array: each
     * slice of the file is mapped, widened or converted, and copied into place, so the peak is the
     * loaded tensor plus one slice, not two or three whole copies.
     */
    private static NDArray loadInSlices(SafetensorsFile file, TensorInfo info, NDManager manager, DataType target)
            throws SafetensorsException {
        SafetensorsDType dtype = info.dtype();
        DataType stored = switch (dtype) {
            case F32, BF16 -> DataType.FLOAT32;
            case F16 -> DataType.FLOAT16;
            case F64 -> DataType.FLOAT64;
            default -> throw new SafetensorsException(file.path(), "tensor '" + info.name() + "' has dtype " + dtype
                    + " and " + info.byteSize() + " bytes; Nuri reads tensors that large only as floating point");
        };
        DataType result = target == null ? stored : target;
        long count = info.elementCount();
        long perSlice = SLICE_BYTES / dtype.bytes();
        NDArray out = manager.create(new Shape(count), result);
        // Two reused buffers (the file's bytes, and the BF16 slice widened): the peak is the tensor plus these.
        ByteBuffer raw = ByteBuffer.allocateDirect((int) (perSlice * dtype.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer widened = dtype == SafetensorsDType.BF16
                ? ByteBuffer.allocateDirect((int) (perSlice * 4)).order(ByteOrder.nativeOrder()) : null;
        for (long start = 0; start < count; start += perSlice) {
            int n = (int) Math.min(perSlice, count - start);
            raw.clear().limit(n * dtype.bytes());
            file.read(info.name(), start * dtype.bytes(), raw);
            raw.flip();
            try (NDManager slice = manager.newSubManager()) {
                NDArray piece;
                if (widened != null) {
                    DTypeConversions.bf16ToFloat32(raw, widened, n);
                    piece = slice.create(widened.duplicate().limit(n * 4), new Shape(n), DataType.FLOAT32);
                } else {
                    piece = slice.create(raw.duplicate(), new Shape(n), stored);
                }
                if (piece.getDataType() != result) {
                    piece = piece.toType(result, false);
                }
                out.set(new NDIndex("{}:{}", start, start + n), piece);
            }
        }
        NDArray shaped = out.reshape(new Shape(info.shape()));
        out.close();
        return shaped;
    }

    /** Fails if the checkpoint holds tensors the architecture did not ask for. */
    public void checkAllUsed() {
        Set<String> unexpected = new TreeSet<>();
        for (String name : fileOf.keySet()) {
            if (!used.contains(name) && !IGNORABLE.matcher(name).matches()) {
                unexpected.add(name);
            }
        }
        if (!unexpected.isEmpty()) {
            String where = fileOf.get(unexpected.iterator().next()).path().toString();
            throw new ModelLoadException(where + ": unexpected tensor(s) for this architecture: "
                    + String.join(", ", unexpected.stream().limit(5).toList())
                    + (unexpected.size() > 5 ? " and " + (unexpected.size() - 5) + " more" : ""));
        }
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
        files.clear();
    }
}
