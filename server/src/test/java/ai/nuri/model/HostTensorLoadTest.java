package ai.nuri.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.nuri.model.safetensors.DTypeConversions;
import ai.nuri.model.safetensors.SafetensorsDType;
import ai.nuri.model.safetensors.SafetensorsException;
import ai.nuri.model.safetensors.SafetensorsFile;
import ai.nuri.model.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Checkpoint tensors read straight into CPU tensors: every value of each floating dtype lands in its
 * place (a size that splits into parts per core and several reads per part, with ragged ends), the
 * dtypes libtorch would have to convert go the other way, and a failed read leaves no array behind
 * (and no part writing into a freed one: that crashed the JVM in a later test).
 */
class HostTensorLoadTest {
    /** Over 2 parts of more than one 8 MB read each, for every element size; odd, so no part ends evenly. */
    static final long COUNT = 9_000_001;
    static final long COLUMNS = 7;

    @TempDir
    Path dir;

    static double value(long i) {
        return i % 251 - 125; // exact in BF16, FP16, FP32 and FP64
    }

    @ParameterizedTest
    @EnumSource(value = SafetensorsDType.class, names = {"F32", "F16", "F64", "BF16"})
    void everyValueOfEachFloatingDtypeLandsInPlace(SafetensorsDType dtype) throws IOException, SafetensorsException {
        long rows = COUNT / COLUMNS;
        long count = rows * COLUMNS;
        Path file = dir.resolve(dtype + ".safetensors");
        ByteBuffer data = ByteBuffer.allocateDirect((int) (count * dtype.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < count; i++) {
            switch (dtype) {
                case F32 -> data.putFloat((float) value(i));
                case F16 -> data.putShort(Float.floatToFloat16((float) value(i)));
                case F64 -> data.putDouble(value(i));
                case BF16 -> data.putShort(DTypeConversions.floatToBf16((float) value(i)));
                default -> throw new AssertionError(dtype);
            }
        }
        new SafetensorsWriter().add("w", dtype, new long[] {rows, COLUMNS}, data.flip()).write(file);
        DataType expected = switch (dtype) {
            case F16 -> DataType.FLOAT16;
            case F64 -> DataType.FLOAT64;
            default -> DataType.FLOAT32;
        };
        try (SafetensorsFile f = SafetensorsFile.open(file); NDManager manager = NDManager.newBaseManager()) {
            assertEquals(expected, HostTensorLoad.resultType(manager, dtype, null));
            NDArray loaded = CheckpointWeights.load(f, f.info("w"), manager, null);
            assertEquals(new Shape(rows, COLUMNS), loaded.getShape());
            assertEquals(expected, loaded.getDataType());
            double[] got;
            try (NDArray wide = loaded.toType(DataType.FLOAT64, true)) {
                got = wide.toDoubleArray();
            }
            for (int i = 0; i < count; i++) {
                if (got[i] != value(i)) {
                    assertEquals(value(i), got[i], "flat index " + i);
                }
            }
        }
    }

    @Test
    void conversionsLibtorchMustDoTakeTheOtherPath() {
        try (NDManager manager = NDManager.newBaseManager()) {
            assertNull(HostTensorLoad.resultType(manager, SafetensorsDType.BF16, DataType.FLOAT16));
            assertNull(HostTensorLoad.resultType(manager, SafetensorsDType.F32, DataType.FLOAT16));
            assertNull(HostTensorLoad.resultType(manager, SafetensorsDType.I64, null));
            assertEquals(DataType.FLOAT32, HostTensorLoad.resultType(manager, SafetensorsDType.BF16, DataType.FLOAT32));
        }
    }

    @Test
    void aReadThatFailsLeavesNoArrayBehind() throws IOException {
        Path file = dir.resolve("cut.safetensors");
        long count = 6_000_000; // 12 MB of BF16: read in two parts
        ByteBuffer data = ByteBuffer.allocateDirect((int) (count * 2)).order(ByteOrder.LITTLE_ENDIAN);
        new SafetensorsWriter().add("w", SafetensorsDType.BF16, new long[] {count}, data).write(file);
        try (NDManager manager = NDManager.newBaseManager(); SafetensorsFile f = SafetensorsFile.open(file)) {
            // Cut short after the header was checked, just past the first part: the second part fails at
            // once while the first is still writing, which must finish before the tensor is freed.
            try (FileChannel cut = FileChannel.open(file, StandardOpenOption.WRITE)) {
                cut.truncate(cut.size() - count + 4096);
            }
            int before = manager.getManagedArrays().size();
            var e = assertThrows(SafetensorsException.class, () -> CheckpointWeights.load(f, f.info("w"), manager, null));
            assertTrue(e.getMessage().contains("cut.safetensors") && e.getMessage().contains("'w'"), e.getMessage());
            assertEquals(before, manager.getManagedArrays().size());
        }
    }
}
