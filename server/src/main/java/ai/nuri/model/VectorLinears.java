package ai.nuri.model;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.DirectTensorMemory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * x Wᵀ for a few FP32 rows on the CPU, with the Java Vector API, reading each weight where libtorch
 * holds it (a weight is in memory once). Why: a decode step at batch 1–16 mostly streams weights,
 * and libtorch's bundled MKL on this project's AMD machines takes a generic path that reads them at
 * about half the memory bandwidth and re-packs them on every call. Here every weight row is read
 * from memory once per call and used for four output columns against two input rows at a time,
 * with the output columns split across threads.
 *
 * <p>Each output is one dot product in a fixed order (vector lanes along {@code in}, the lanes
 * summed, then the tail), whatever the number of rows or threads: a row gets bit-identical
 * outputs alone or with others. Rows beyond {@code maxRows}, and inputs that are views rather than
 * contiguous rows, go to libtorch.
 */
public final class VectorLinears implements Linears {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Below this many multiply-adds a call stays on the calling thread: handing work over costs about 10 µs. */
    private static final long PARALLEL_WORK = 1L << 18;
    private static final int THREADS = Runtime.getRuntime().availableProcessors();
    /** The calling thread takes one part; these threads the others. */
    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, THREADS - 1), pool -> {
        var thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        thread.setName("nuri-matmul-" + thread.getPoolIndex());
        return thread;
    }, null, false);

    private final int maxRows;
    /** Multiplications this kernel did itself (not handed to libtorch): tests see that it ran. */
    private final java.util.concurrent.atomic.LongAdder multiplied = new java.util.concurrent.atomic.LongAdder();
    /** Each weight's memory, looked up once (by identity: the model holds its weights for its whole life). */
    private final Map<NDArray, Weight> weights = Collections.synchronizedMap(new IdentityHashMap<>());

    /** A weight's memory, [out, in] row-major; {@code memory} null: not FP32 or not contiguous, libtorch's. */
    private record Weight(MemorySegment memory, int out, int in) {}

    /** @param maxRows the most rows this kernel multiplies; more go to libtorch */
    public VectorLinears(int maxRows) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("maxRows must be at least 1, not " + maxRows);
        }
        this.maxRows = maxRows;
    }

    public int maxRows() {
        return maxRows;
    }

    long multiplied() {
        return multiplied.sum();
    }

    @Override
    public NDArray apply(NDArray x, NDArray weight) {
        Weight w = weights.computeIfAbsent(weight, VectorLinears::describe);
        if (w.memory() == null) {
            return TORCH.apply(x, weight);
        }
        MemorySegment rowsIn;
        try {
            rowsIn = memory(x);
        } catch (EngineException notContiguous) {
            return TORCH.apply(x, weight);
        }
        long rowBytes = 4L * w.in();
        if (rowsIn.byteSize() % rowBytes != 0) {
            throw new IllegalArgumentException("input of " + rowsIn.byteSize() / 4 + " values is not rows of " + w.in());
        }
        int rows = (int) (rowsIn.byteSize() / rowBytes);
        if (rows == 0 || rows > maxRows) {
            return TORCH.apply(x, weight);
        }
        // The input rows are small (rows * in floats): on the heap they load as fast as anything.
        float[] in = new float[rows * w.in()];
        MemorySegment.copy(rowsIn, FLOAT, 0, in, 0, in.length);
        NDArray y = x.getManager().create(new Shape(rows, w.out()), DataType.FLOAT32);
        multiply(w, in, rows, memory(y));
        multiplied.increment();
        return y;
    }

    private static Weight describe(NDArray weight) {
        Shape shape = weight.getShape();
        if (weight.getDataType() != DataType.FLOAT32 || shape.dimension() != 2) {
            return new Weight(null, 0, 0);
        }
        try {
            return new Weight(memory(weight), (int) shape.get(0), (int) shape.get(1));
        } catch (EngineException notContiguous) {
            return new Weight(null, 0, 0);
        }
    }

    private static MemorySegment memory(NDArray a) {
        return MemorySegment.ofBuffer(DirectTensorMemory.of(((PtNDArray) a).getHandle()));
    }

    /** y [rows, out] = x [rows, in] Wᵀ, the output columns split in blocks of four across threads. */
    private static void multiply(Weight w, float[] x, int rows, MemorySegment y) {
        int blocks = (w.out() + 3) / 4;
        int parts = (long) rows * w.out() * w.in() >= PARALLEL_WORK ? Math.min(THREADS, blocks) : 1;
        ForkJoinTask<?>[] others = new ForkJoinTask<?>[parts - 1];
        for (int p = 1; p < parts; p++) {
            int from = columnBound(p, parts, blocks, w.out());
            int to = columnBound(p + 1, parts, blocks, w.out());
            others[p - 1] = POOL.submit(() -> columns(w, x, rows, y, from, to));
        }
        try {
            columns(w, x, rows, y, 0, columnBound(1, parts, blocks, w.out()));
        } finally {
            for (ForkJoinTask<?> t : others) {
                t.join(); // never return while another thread still writes into y
            }
        }
    }

    /** Part p's first output column of {@code parts}: a multiple of four, so blocks never straddle parts. */
    private static int columnBound(int p, int parts, int blocks, int out) {
        return (int) Math.min(out, (long) blocks * p / parts * 4);
    }

    /** Output columns [from, to) for every row. */
    private static void columns(Weight w, float[] x, int rows, MemorySegment y, int from, int to) {
        int in = w.in();
        int o = from;
        if (rows == 1) { // one row reads weights only: eight streams at once keep more memory reads in flight
            for (; o + 8 <= to; o += 8) {
                eightByOne(w.memory(), o, in, x, y, w.out());
            }
        }
        for (; o + 4 <= to; o += 4) {
            int b = 0;
            for (; b + 2 <= rows; b += 2) {
                fourByTwo(w.memory(), o, in, x, b, y, w.out());
            }
            if (b < rows) {
                fourByOne(w.memory(), o, in, x, b, y, w.out());
            }
        }
        for (; o < to; o++) {
            for (int b = 0; b < rows; b++) {
                long wRow = 4L * o * in;
                FloatVector acc = FloatVector.zero(SPECIES);
                int bound = SPECIES.loopBound(in);
                for (int i = 0; i < bound; i += SPECIES.length()) {
                    acc = weights(w.memory(), wRow, i).fma(FloatVector.fromArray(SPECIES, x, b * in + i), acc);
                }
                put(y, b, o, w.out(), finish(acc, w.memory(), wRow, x, b * in, bound, in));
            }
        }
    }

    /** Columns o..o+3 of rows b and b+1: eight sums, each weight vector loaded once for both rows. */
    private static void fourByTwo(MemorySegment w, int o, int in, float[] x, int b, MemorySegment y, int out) {
        long w0 = 4L * o * in, w1 = w0 + 4L * in, w2 = w1 + 4L * in, w3 = w2 + 4L * in;
        int x0 = b * in, x1 = x0 + in;
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        int bound = SPECIES.loopBound(in);
        for (int i = 0; i < bound; i += SPECIES.length()) {
            FloatVector v0 = FloatVector.fromArray(SPECIES, x, x0 + i);
            FloatVector v1 = FloatVector.fromArray(SPECIES, x, x1 + i);
            FloatVector k0 = weights(w, w0, i), k1 = weights(w, w1, i), k2 = weights(w, w2, i), k3 = weights(w, w3, i);
            a00 = k0.fma(v0, a00);
            a01 = k1.fma(v0, a01);
            a02 = k2.fma(v0, a02);
            a03 = k3.fma(v0, a03);
            a10 = k0.fma(v1, a10);
            a11 = k1.fma(v1, a11);
            a12 = k2.fma(v1, a12);
            a13 = k3.fma(v1, a13);
        }
        put(y, b, o, out, finish(a00, w, w0, x, x0, bound, in));
        put(y, b, o + 1, out, finish(a01, w, w1, x, x0, bound, in));
        put(y, b, o + 2, out, finish(a02, w, w2, x, x0, bound, in));
        put(y, b, o + 3, out, finish(a03, w, w3, x, x0, bound, in));
        put(y, b + 1, o, out, finish(a10, w, w0, x, x1, bound, in));
        put(y, b + 1, o + 1, out, finish(a11, w, w1, x, x1, bound, in));
        put(y, b + 1, o + 2, out, finish(a12, w, w2, x, x1, bound, in));
        put(y, b + 1, o + 3, out, finish(a13, w, w3, x, x1, bound, in));
    }

    /** Columns o..o+7 of a single row. */
    private static void eightByOne(MemorySegment w, int o, int in, float[] x, MemorySegment y, int out) {
        long rowBytes = 4L * in;
        long w0 = rowBytes * o, w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
        long w4 = w3 + rowBytes, w5 = w4 + rowBytes, w6 = w5 + rowBytes, w7 = w6 + rowBytes;
        FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        int bound = SPECIES.loopBound(in);
        for (int i = 0; i < bound; i += SPECIES.length()) {
            FloatVector v = FloatVector.fromArray(SPECIES, x, i);
            a0 = weights(w, w0, i).fma(v, a0);
            a1 = weights(w, w1, i).fma(v, a1);
            a2 = weights(w, w2, i).fma(v, a2);
            a3 = weights(w, w3, i).fma(v, a3);
            a4 = weights(w, w4, i).fma(v, a4);
            a5 = weights(w, w5, i).fma(v, a5);
            a6 = weights(w, w6, i).fma(v, a6);
            a7 = weights(w, w7, i).fma(v, a7);
        }
        put(y, 0, o, out, finish(a0, w, w0, x, 0, bound, in));
        put(y, 0, o + 1, out, finish(a1, w, w1, x, 0, bound, in));
        put(y, 0, o + 2, out, finish(a2, w, w2, x, 0, bound, in));
        put(y, 0, o + 3, out, finish(a3, w, w3, x, 0, bound, in));
        put(y, 0, o + 4, out, finish(a4, w, w4, x, 0, bound, in));
        put(y, 0, o + 5, out, finish(a5, w, w5, x, 0, bound, in));
        put(y, 0, o + 6, out, finish(a6, w, w6, x, 0, bound, in));
        put(y, 0, o + 7, out, finish(a7, w, w7, x, 0, bound, in));
    }

    /** Columns o..o+3 of row b alone (the last of an odd number of rows). */
    private static void fourByOne(MemorySegment w, int o, int in, float[] x, int b, MemorySegment y, int out) {
        long w0 = 4L * o * in, w1 = w0 + 4L * in, w2 = w1 + 4L * in, w3 = w2 + 4L * in;
        int x0 = b * in;
        FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
        int bound = SPECIES.loopBound(in);
        for (int i = 0; i < bound; i += SPECIES.length()) {
            FloatVector v0 = FloatVector.fromArray(SPECIES, x, x0 + i);
            a0 = weights(w, w0, i).fma(v0, a0);
            a1 = weights(w, w1, i).fma(v0, a1);
            a2 = weights(w, w2, i).fma(v0, a2);
            a3 = weights(w, w3, i).fma(v0, a3);
        }
        put(y, b, o, out, finish(a0, w, w0, x, x0, bound, in));
        put(y, b, o + 1, out, finish(a1, w, w1, x, x0, bound, in));
        put(y, b, o + 2, out, finish(a2, w, w2, x, x0, bound, in));
        put(y, b, o + 3, out, finish(a3, w, w3, x, x0, bound, in));
    }

    private static FloatVector weights(MemorySegment w, long row, int i) {
        return FloatVector.fromMemorySegment(SPECIES, w, row + 4L * i, ORDER);
    }

    /**
     * The lanes summed in lane order, then the elements past the last whole vector: the same order on
     * every path. Not {@code reduceLanes}: its compiled form adds the lanes as a tree and its
     * interpreted form in order, so a result would depend on whether the JIT had compiled it yet.
     */
    private static float finish(FloatVector acc, MemorySegment w, long row, float[] x, int xRow, int from, int in) {
        float sum = 0;
        for (int lane = 0; lane < acc.length(); lane++) {
            sum += acc.lane(lane);
        }
        for (int i = from; i < in; i++) {
            sum = Math.fma(w.get(FLOAT, row + 4L * i), x[xRow + i], sum);
        }
        return sum;
    }

    private static void put(MemorySegment y, int row, int column, int out, float value) {
        y.set(FLOAT, 4L * ((long) row * out + column), value);
    }
}
