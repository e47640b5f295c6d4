package ai.nuri.model.kv;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.nuri.model.AttentionKernel;
import ai.nuri.model.GroupedAttention;
import java.util.ArrayList;
import java.util.List;

/**
 * Attention for one serving step over the paged KV cache. The step's new keys and values are
 * written to their slots first (one scatter per layer); then decode tokens (one per sequence) are
 * attended together as one padded batch, and each prefill chunk on its own with a causal mask
 * offset by its start. All index and mask arrays are built once per step and shared by every
 * layer.
 */
public final class PagedAttention implements AttentionKernel {
    private final PagedKvCache cache;
    private final NDArray writeSlots;
    private final Group decode;
    private final List<Group> prefills = new ArrayList<>();
    /** Rows of the concatenated group outputs, in token order; null if already in order. */
    private final NDArray restoreOrder;

    /** Queries [N, Lq] read keys through slots [N, Lk] under an additive mask [N, Lq, Lk]. */
    private record Group(NDArray queryRows, int n, int lq, NDArray slots, NDArray mask) {}

    public PagedAttention(NDManager manager, PagedKvCache cache, List<SequenceChunk> batch) {
        this.cache = cache;
        int total = batch.stream().mapToInt(c -> c.tokens().length).sum();
        long[] slots = new long[total];
        List<Integer> decodeChunks = new ArrayList<>();
        int[] offsets = new int[batch.size()];
        int t = 0;
        for (int i = 0; i < batch.size(); i++) {
            SequenceChunk c = batch.get(i);
            offsets[i] = t;
            for (int j = 0; j < c.tokens().length; j++) {
                slots[t++] = c.blocks().slot(c.start() + j);
            }
            if (c.tokens().length == 1) {
                decodeChunks.add(i);
            }
        }
        this.writeSlots = manager.create(slots);

        List<Integer> order = new ArrayList<>(total);
        this.decode = decodeChunks.isEmpty() ? null : decodeGroup(manager, batch, offsets, decodeChunks, order);
        for (int i = 0; i < batch.size(); i++) {
            if (batch.get(i).tokens().length > 1) {
                prefills.add(prefillGroup(manager, batch.get(i), offsets[i], order));
            }
        }
        this.restoreOrder = inverseIfShuffled(manager, order);
    }

    private static Group decodeGroup(NDManager manager, List<SequenceChunk> batch, int[] offsets,
            List<Integer> chunks, List<Integer> order) {
        int n = chunks.size();
        int maxContext = chunks.stream().mapToInt(i -> batch.get(i).end()).max().orElseThrow();
        long[] rows = new long[n];
        long[] slots = new long[n * maxContext];
        float[] mask = new float[n * maxContext];
        for (int r = 0; r < n; r++) {
            SequenceChunk c = batch.get(chunks.get(r));
            rows[r] = offsets[chunks.get(r)];
            order.add(offsets[chunks.get(r)]);
            for (int p = 0; p < maxContext; p++) {
                boolean valid = p < c.end();
                // Padding reads slot 0 of the sequence's own first block: any valid slot does, it is masked.
                slots[r * maxContext + p] = c.blocks().slot(valid ? p : 0);
                mask[r * maxContext + p] = valid ? 0f : GroupedAttention.MASKED;
            }
        }
        return new Group(manager.create(rows), n, 1, manager.create(slots).reshape(n, maxContext),
                manager.create(mask).reshape(n, 1, maxContext));
    }

    private static Group prefillGroup(NDManager manager, SequenceChunk c, int offset, List<Integer> order) {
        int lq = c.tokens().length;
        int context = c.end();
        long[] rows = new long[lq];
        long[] slots = new long[context];
        float[] mask = new float[lq * context];
        for (int i = 0; i < lq; i++) {
            rows[i] = offset + i;
            order.add(offset + i);
            int position = c.start() + i;
            for (int p = position + 1; p < context; p++) {
                mask[i * context + p] = GroupedAttention.MASKED;
            }
        }
        for (int p = 0; p < context; p++) {
            slots[p] = c.blocks().slot(p);
        }
        return new Group(manager.create(rows), 1, lq, manager.create(slots).reshape(1, context),
                manager.create(mask).reshape(1, lq, context));
    }

    private static NDArray inverseIfShuffled(NDManager manager, List<Integer> order) {
        long[] inverse = new long[order.size()];
        boolean identity = true;
        for (int i = 0; i < order.size(); i++) {
            inverse[order.get(i)] = i;
            identity &= order.get(i) == i;
        }
        return identity ? null : manager.create(inverse);
    }

    @Override
    public NDArray attend(int layer, NDArray q, NDArray k, NDArray v) {
        NDArray keys = cache.keys(layer);
        NDArray values = cache.values(layer);
        NDIndex write = new NDIndex("{}", writeSlots);
        keys.set(write, k);
        values.set(write, v);

        List<NDArray> outputs = new ArrayList<>();
        if (decode != null) {
            outputs.add(attendGroup(decode, q, keys, values));
        }
        for (Group g : prefills) {
            outputs.add(attendGroup(g, q, keys, values));
        }
        NDArray out = outputs.size() == 1 ? outputs.get(0) : NDArrays.concat(new NDList(outputs), 0);
        return restoreOrder == null ? out : out.get(restoreOrder);
    }

    private static NDArray attendGroup(Group g, NDArray q, NDArray keys, NDArray values) {
        long heads = q.getShape().get(1);
        long headDim = q.getShape().get(2);
        NDArray queries = q.get(g.queryRows).reshape(g.n, g.lq, heads, headDim);
        NDArray out = GroupedAttention.attend(queries, keys.get(g.slots), values.get(g.slots), g.mask);
        return out.reshape((long) g.n * g.lq, heads * headDim);
    }
}
