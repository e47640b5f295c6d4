package ai.nuri.model.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PagedAttentionTest {
    private final BlockAllocator allocator = new BlockAllocator(4096);

    private SequenceChunk decodeAt(int context) {
        BlockTable t = new BlockTable(16);
        t.reserve(context, allocator);
        return new SequenceChunk(t, new int[] {1}, context - 1);
    }

    private List<List<Integer>> groups(int groupCost, int... contexts) {
        List<SequenceChunk> batch = new ArrayList<>();
        List<Integer> decodes = new ArrayList<>();
        for (int c : contexts) {
            decodes.add(batch.size());
            batch.add(decodeAt(c));
        }
        return PagedAttention.byLength(batch, decodes, groupCost);
    }

    @Test
    void decodesOfSimilarContextShareAGroupAndFarApartOnesDoNot() {
        // Two long and two short: padding the short ones to 2,000 would read ~3,800 keys for nothing.
        assertEquals(List.of(List.of(0, 2), List.of(1, 3)), groups(1024, 2000, 100, 1990, 90));
        // The same lengths but a group costing more than the padding it saves: one group, in step order.
        assertEquals(List.of(List.of(0, 1, 2, 3)), groups(10_000, 2000, 100, 1990, 90));
        assertEquals(List.of(List.of(0, 1, 2)), groups(1024, 500, 500, 500));
        assertEquals(List.of(), groups(1024));
    }

    @Test
    void groupingIsTheLeastCostOverAllSplits() {
        // Brute force over every split of the sorted contexts into consecutive runs.
        int[] contexts = {700, 40, 1500, 45, 900, 1450, 60, 1000};
        int cost = 300;
        List<List<Integer>> found = groups(cost, contexts);
        assertEquals(bruteForceBest(contexts, cost), costOf(found, contexts, cost));
    }

    private static long costOf(List<List<Integer>> groups, int[] contexts, int groupCost) {
        long total = 0;
        for (List<Integer> g : groups) {
            int max = g.stream().mapToInt(i -> contexts[i]).max().orElseThrow();
            total += groupCost + (long) g.size() * max;
        }
        return total;
    }

    private static long bruteForceBest(int[] contexts, int groupCost) {
        int[] sorted = java.util.Arrays.stream(contexts).boxed().sorted((a, b) -> b - a).mapToInt(Integer::intValue).toArray();
        long best = Long.MAX_VALUE;
        for (int mask = 0; mask < 1 << (sorted.length - 1); mask++) { // bit i: a cut after position i
            long total = 0;
            int start = 0;
            for (int i = 0; i < sorted.length; i++) {
                if (i == sorted.length - 1 || (mask & (1 << i)) != 0) {
                    total += groupCost + (long) (i + 1 - start) * sorted[start];
                    start = i + 1;
                }
            }
            best = Math.min(best, total);
        }
        return best;
    }
}
