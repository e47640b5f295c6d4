package ai.nuri.model.kv;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.AttentionKernel;
import ai.nuri.model.GroupedAttention;
import ai.nuri.model.Rows;
import ai.nuri.model.Torch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Attention for one serving step over the paged KV cache. The step's new keys and values are
 * written to their slots first (one scatter per layer); then decode tokens (one per sequence)
 * are attended in groups of similar context length, and each prefill chunk on its own with a
 * causal mask offset by its start.
 *
 * <p>Keys and values are read through the cache's by-head view with one gather per group that
 * already yields [sequence x key/value head, position, headDim]: the query heads sharing a
 * key/value head are one matrix, so both matrix multiplications read the gathered history as it
 * lies (no transpose copy), and a step whose rows are all decodes in one group neither gathers
 * nor re-orders query rows. All index, mask and scalar arrays are built once per step and shared
 * by every layer.
 */
public final class PagedAttention implements AttentionKernel {
    /**
     * What one more decode group costs in key positions read (its dozen native calls against the
     * padding it saves): sequences are grouped so that padding plus this per group is least.
     */
    static final int GROUP_COST_IN_KEYS = 1024;

    private final PagedKvCache cache;
    private final NDArray writeSlots;
    private final List<Group> groups = new ArrayList<>();
    /** Rows of the concatenated group outputs, in token order; null if already in order. */
    private final NDArray restoreOrder;
    private final NDArray scale;

    /**
     * N sequences of Lq queries each, reading Lk keys through {@code keyRows} [N * kvHeads, Lk]
     * (rows of the cache's by-head view) under an additive mask (null: nothing masked);
     * {@code queryRows} null when the group is the whole step in order.
     */
    private record Group(NDArray queryRows, int n, int lq, int lk, NDArray keyRows, NDArray mask) {}

    public PagedAttention(NDManager manager, PagedKvCache cache, List<SequenceChunk> batch) {
        this(manager, cache, batch, GROUP_COST_IN_KEYS);
    }

    /** As above, with what one more decode group is taken to cost, in key positions read. */
    public PagedAttention(NDManager manager, PagedKvCache cache, List<SequenceChunk> batch, int groupCostInKeys) {
        this.cache = cache;
        int kvHeads = cache.kvHeads();
        int total = batch.stream().mapToInt(c -> c.tokens().length).sum();
        long[] slots = new long[total];
        List<Integer> decodes = new ArrayList<>();
        int[] offsets = new int[batch.size()];
        int t = 0;
        for (int i = 0; i < batch.size(); i++) {
            SequenceChunk c = batch.get(i);
            offsets[i] = t;
            for (int j = 0; j < c.tokens().length; j++) {
                slots[t++] = c.blocks().slot(c.start() + j);
            }
            if (c.tokens().length == 1) {
                decodes.add(i);
            }
        }
        this.writeSlots = manager.create(slots);
        this.scale = manager.create((float) (1.0 / Math.sqrt(cache.headDim())));

        List<Integer> order = new ArrayList<>(total);
        for (List<Integer> group : byLength(batch, decodes, groupCostInKeys)) {
            groups.add(decodeGroup(manager, batch, offsets, group, kvHeads, order, total));
        }
        for (int i = 0; i < batch.size(); i++) {
            if (batch.get(i).tokens().length > 1) {
                groups.add(prefillGroup(manager, batch.get(i), offsets[i], kvHeads, order, total));
            }
        }
        this.restoreOrder = inverseIfShuffled(manager, order);
    }

    /**
     * Splits the decode chunks (indices into {@code batch}) into groups of similar context: the
     * least key positions read, padding included, plus {@code groupCost} per group (exact, over
     * the chunks sorted by context). Each group keeps step order; one group is {@code decodes}.
     */
    static List<List<Integer>> byLength(List<SequenceChunk> batch, List<Integer> decodes, int groupCost) {
        int n = decodes.size();
        if (n == 0) {
            return List.of();
        }
        Integer[] sorted = decodes.toArray(Integer[]::new);
        Arrays.sort(sorted, Comparator.comparingInt((Integer i) -> batch.get(i).end()).reversed());
        long[] best = new long[n + 1]; // best[j]: cost of grouping the j longest
        int[] cut = new int[n + 1];
        for (int j = 1; j <= n; j++) {
            best[j] = Long.MAX_VALUE;
            for (int i = 0; i < j; i++) { // a group of sorted[i..j), padded to the longest, sorted[i]
                long cost = best[i] + groupCost + (long) (j - i) * batch.get(sorted[i]).end();
                if (cost < best[j]) {
                    best[j] = cost;
                    cut[j] = i;
                }
            }
        }
        if (cut[n] == 0) {
            return List.of(decodes);
        }
        List<List<Integer>> groups = new ArrayList<>();
        for (int j = n; j > 0; j = cut[j]) {
            List<Integer> group = new ArrayList<>(Arrays.asList(sorted).subList(cut[j], j));
            group.sort(null); // step order within a group
            groups.add(0, group);
        }
        return groups;
    }

    private static Group decodeGroup(NDManager manager, List<SequenceChunk> batch, int[] offsets, List<Integer> chunks,
            int kvHeads, List<Integer> order, int total) {
        int n = chunks.size();
        int maxContext = chunks.stream().mapToInt(i -> batch.get(i).end()).max().orElseThrow();
        boolean padded = chunks.stream().anyMatch(i -> batch.get(i).end() < maxContext);
        long[] rows = new long[n];
        long[] keys = new long[n * kvHeads * maxContext];
        float[] mask = padded ? new float[n * kvHeads * maxContext] : null;
        for (int r = 0; r < n; r++) {
            SequenceChunk c = batch.get(chunks.get(r));
            rows[r] = offsets[chunks.get(r)];
            order.add(offsets[chunks.get(r)]);
            for (int p = 0; p < maxContext; p++) {
                boolean valid = p < c.end();
                // Padding reads slot 0 of the sequence's own first block: any valid slot does, it is masked.
                long slot = c.blocks().slot(valid ? p : 0);
                for (int h = 0; h < kvHeads; h++) {
                    int at = (r * kvHeads + h) * maxContext + p;
                    keys[at] = slot * kvHeads + h;
                    if (mask != null) {
                        mask[at] = valid ? 0f : GroupedAttention.MASKED;
                    }
                }
            }
        }
        boolean wholeStep = n == total && isIdentity(rows);
        return new Group(wholeStep ? null : manager.create(rows), n, 1, maxContext,
                manager.create(keys).reshape((long) n * kvHeads, maxContext),
                mask == null ? null : manager.create(mask).reshape((long) n * kvHeads, 1, maxContext));
    }

    private static Group prefillGroup(NDManager manager, SequenceChunk c, int offset, int kvHeads, List<Integer> order,
            int total) {
        int lq = c.tokens().length;
        int context = c.end();
        long[] rows = new long[lq];
        float[] mask = new float[lq * context];
        for (int i = 0; i < lq; i++) {
            rows[i] = offset + i;
            order.add(offset + i);
            int position = c.start() + i;
            for (int p = position + 1; p < context; p++) {
                mask[i * context + p] = GroupedAttention.MASKED;
            }
        }
        long[] keys = new long[kvHeads * context];
        for (int p = 0; p < context; p++) {
            long slot = c.blocks().slot(p);
            for (int h = 0; h < kvHeads; h++) {
                keys[h * context + p] = slot * kvHeads + h;
            }
        }
        boolean wholeStep = lq == total;
        return new Group(wholeStep ? null : manager.create(rows), 1, lq, context,
                manager.create(keys).reshape(kvHeads, context), manager.create(mask).reshape(1, lq, 1, context));
    }

    private static boolean isIdentity(long[] rows) {
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] != i) {
                return false;
            }
        }
        return true;
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
    public NDArray attend(int layer, NDArray q, NDArray k, NDArray v, Heads heads) {
        NDIndex write = new NDIndex("{}", writeSlots);
        cache.keyRows(layer).set(write, k);
        cache.valueRows(layer).set(write, v);

        NDArray[] outputs = new NDArray[groups.size()];
        for (int i = 0; i < outputs.length; i++) {
            outputs[i] = attendGroup(groups.get(i), layer, q, heads);
        }
        NDArray out = outputs.length == 1 ? outputs[0] : NDArrays.concat(new NDList(outputs), 0);
        return restoreOrder == null ? out : Rows.take(out, restoreOrder);
    }

    /** Softmax(q k^T / sqrt(d) + mask) v for one group, as [N * Lq, heads * headDim] rows. */
    private NDArray attendGroup(Group g, int layer, NDArray q, Heads heads) {
        NDArray rows = g.queryRows == null ? q : Rows.take(q, g.queryRows);
        return g.lq == 1 ? attendDecodes(g, layer, rows, heads.keyValue(), heads.group(), heads.size())
                : attendPrefill(g, layer, rows, heads.keyValue(), heads.group(), heads.size());
    }

    /**
     * A decode group: per (sequence, key/value head) its query heads [group, d] against the
     * history's keys [Lk, d], read through a transposed view (BLAS takes it as it lies; keys on
     * the left instead, with the small matrices transposed, measured no faster and costs two
     * native calls more).
     */
    private NDArray attendDecodes(Group g, int layer, NDArray rows, long kv, long group, long d) {
        NDArray queries = rows.reshape(g.n * kv, group, d);
        NDArray keys = Rows.take(cache.keyHeads(layer), g.keyRows); // [N * kv, Lk, d]
        NDArray probs = softmax(Torch.matMul(queries, keys.swapAxes(1, 2)), g.mask); // [N * kv, group, Lk]
        NDArray values = Rows.take(cache.valueHeads(layer), g.keyRows); // [N * kv, Lk, d]
        return Torch.matMul(probs, values).reshape(g.n, kv * group * d);
    }

    /** One sequence's prefill chunk: per key/value head, all its query rows (position, then query head) at once. */
    private NDArray attendPrefill(Group g, int layer, NDArray rows, long kv, long group, long d) {
        NDArray queries = rows.reshape(g.lq, kv, group, d).swapAxes(0, 1).reshape(kv, g.lq * group, d);
        NDArray keys = Rows.take(cache.keyHeads(layer), g.keyRows); // [kv, Lk, d]
        NDArray scores = Torch.matMul(queries, keys.swapAxes(1, 2)); // [kv, Lq * group, Lk]
        // The causal mask is per position: seen as [kv, Lq, group, Lk], a view of the same scores.
        NDArray probs = softmax(scores.reshape(kv, g.lq, group, g.lk), g.mask).reshape(kv, g.lq * group, g.lk);
        NDArray out = Torch.matMul(probs, Rows.take(cache.valueHeads(layer), g.keyRows)); // [kv, Lq * group, d]
        return out.reshape(kv, g.lq, group, d).swapAxes(0, 1).reshape(g.lq, kv * group * d);
    }

    /** Scaled, masked (mask may be null) softmax over the keys (the last axis), in FP32 whatever the cache's dtype. */
    private NDArray softmax(NDArray scores, NDArray mask) {
        DataType type = cache.dtype();
        NDArray s = type == DataType.FLOAT32 ? scores : scores.toType(DataType.FLOAT32, false);
        s.muli(scale);
        if (mask != null) {
            s.addi(mask);
        }
        NDArray probs = Torch.softmax(s, -1);
        return type == DataType.FLOAT32 ? probs : probs.toType(type, false);
    }
}
