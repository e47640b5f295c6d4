package ai.nuri.model.kv;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.nuri.model.Mamba2Mixer;
import ai.nuri.model.RecurrentKernel;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The recurrent kernel for one serving step over the {@link RecurrentStatePool}. Decode tokens
 * (one per sequence) advance their states together, one recurrence step for the whole group;
 * each prefill chunk runs the chunked scan from its sequence's state (or from zero at position 0)
 * and leaves the state after its last token in the sequence's slot. Index arrays are built once
 * per step and shared by every layer.
 */
public final class PooledRecurrence implements RecurrentKernel {
    private final RecurrentStatePool pool;
    private final Decode decode;
    private final List<Prefill> prefills = new ArrayList<>();
    /** Rows of the concatenated group outputs, in token order; null if already in order. */
    private final NDArray restoreOrder;

    /** Decode rows of the step, the rows their states are read from, and the slots they are written to. */
    private record Decode(NDArray rows, NDArray readRows, NDArray writeSlots, int[] read, int[] write) {}

    /** One sequence's prefill chunk: rows offset .. offset + length of the step. */
    private record Prefill(int offset, int length, boolean fresh, NDArray slot) {}

    public PooledRecurrence(NDManager manager, RecurrentStatePool pool, List<SequenceChunk> batch) {
        this.pool = pool;
        List<Integer> order = new ArrayList<>();
        List<long[]> decodeRows = new ArrayList<>();
        int offset = 0;
        for (SequenceChunk c : batch) {
            if (c.stateSlot() < 0) {
                throw new IllegalArgumentException("a hybrid model's chunk needs a state slot");
            }
            if (c.tokens().length == 1) {
                decodeRows.add(new long[] {offset, c.start() == 0 ? pool.zeroRow() : c.stateSlot(), c.stateSlot()});
                order.add(offset);
            }
            offset += c.tokens().length;
        }
        this.decode = decodeRows.isEmpty() ? null : new Decode(
                manager.create(decodeRows.stream().mapToLong(r -> r[0]).toArray()),
                manager.create(decodeRows.stream().mapToLong(r -> r[1]).toArray()),
                manager.create(decodeRows.stream().mapToLong(r -> r[2]).toArray()),
                decodeRows.stream().mapToInt(r -> (int) r[1]).toArray(),
                decodeRows.stream().mapToInt(r -> (int) r[2]).toArray());
        offset = 0;
        for (SequenceChunk c : batch) {
            int n = c.tokens().length;
            if (n > 1) {
                prefills.add(new Prefill(offset, n, c.start() == 0, manager.create(new long[] {c.stateSlot()})));
                for (int i = 0; i < n; i++) {
                    order.add(offset + i);
                }
            }
            offset += n;
        }
        long[] inverse = new long[order.size()];
        boolean identity = true;
        for (int i = 0; i < order.size(); i++) {
            inverse[order.get(i)] = i;
            identity &= order.get(i) == i;
        }
        this.restoreOrder = identity ? null : manager.create(inverse);
    }

    @Override
    public NDArray scan(int layer, Mamba2Mixer mixer, NDArray xbc, NDArray dt) {
        NDArray conv = pool.convStates(layer);
        NDArray ssm = pool.ssmStates(layer);
        List<NDArray> outputs = new ArrayList<>();
        if (decode != null) {
            FloatBuffer memory = pool.ssmMemory(layer);
            NDIndex write = new NDIndex("{}", decode.writeSlots);
            Mamba2Mixer.Output out;
            if (memory != null) {
                out = mixer.stepInPlace(xbc.get(decode.rows), dt.get(decode.rows), conv.get(decode.readRows), memory,
                        decode.read, decode.write);
            } else {
                out = mixer.step(xbc.get(decode.rows), dt.get(decode.rows), conv.get(decode.readRows),
                        ssm.get(decode.readRows));
                ssm.set(write, out.ssmState());
            }
            conv.set(write, out.convState());
            outputs.add(out.y());
        }
        for (Prefill p : prefills) {
            String rows = p.offset + ":" + (p.offset + p.length);
            Mamba2Mixer.Output out = mixer.sequence(xbc.get(rows).expandDims(0), dt.get(rows).expandDims(0),
                    p.fresh ? null : conv.get(p.slot), p.fresh ? null : ssm.get(p.slot));
            NDIndex write = new NDIndex("{}", p.slot);
            conv.set(write, out.convState());
            ssm.set(write, out.ssmState());
            outputs.add(out.y().reshape(p.length, -1));
        }
        NDArray y = outputs.size() == 1 ? outputs.get(0) : NDArrays.concat(new NDList(outputs), 0);
        return restoreOrder == null ? y : y.get(restoreOrder);
    }
}
