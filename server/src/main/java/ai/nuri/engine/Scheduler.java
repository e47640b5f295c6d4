package ai.nuri.engine;

import ai.nuri.model.kv.BlockAllocator;
import ai.nuri.model.kv.RecurrentStatePool;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Decides each step's batch (iteration-level scheduling, as vLLM does). Running sequences go
 * first, oldest first, each taking what it still needs (one decode token, or the next prefill
 * chunk) from the step's token budget; then waiting sequences are admitted while sequences,
 * tokens and KV blocks allow. When the pool runs dry the youngest running sequence is preempted:
 * its blocks are freed and it waits at the front, to be recomputed from its tokens later.
 * For hybrid models a sequence also needs a recurrent-state slot to be admitted; it keeps the
 * slot while it runs and gives it up when it finishes or is preempted (its state is recomputed).
 */
final class Scheduler {
    /** One sequence's share of a step. */
    record Scheduled(Sequence sequence, int tokens) {}

    private final EngineConfig config;
    private final BlockAllocator allocator;
    private final EngineObserver observer;
    /** Null for models without recurrent layers. */
    private final RecurrentStatePool states;
    final Deque<Sequence> waiting = new ArrayDeque<>();
    /** Admission order, oldest first. */
    final List<Sequence> running = new ArrayList<>();

    Scheduler(EngineConfig config, BlockAllocator allocator, RecurrentStatePool states, EngineObserver observer) {
        this.config = config;
        this.allocator = allocator;
        this.states = states;
        this.observer = observer;
    }

    boolean isIdle() {
        return waiting.isEmpty() && running.isEmpty();
    }

    List<Scheduled> schedule() {
        int budget = config.maxNumBatchedTokens();
        List<Scheduled> plan = new ArrayList<>();
        boolean preempted = false;
        for (int i = 0; i < running.size() && budget > 0; i++) {
            Sequence s = running.get(i);
            int n = Math.min(s.pending(), budget);
            while (!s.blocks.reserve(s.computed + n, allocator)) {
                Sequence victim = running.get(running.size() - 1);
                preempt(victim);
                preempted = true;
                if (victim == s) {
                    n = 0;
                    break;
                }
            }
            if (n > 0) {
                plan.add(new Scheduled(s, n));
                budget -= n;
            }
        }
        // After a preemption the pool is tight: let the survivors finish before admitting more.
        long now = System.nanoTime();
        while (!preempted && budget > 0 && !waiting.isEmpty() && running.size() < config.maxNumSeqs()) {
            Sequence s = waiting.peekFirst();
            if (s.computed == 0) {
                reuseCachedPrefix(s);
            }
            int n = Math.min(s.pending(), budget);
            if (!s.blocks.reserve(s.computed + n, allocator) || !takeStateSlot(s)) {
                forget(s); // hold nothing while waiting
                break;
            }
            waiting.pollFirst();
            running.add(s);
            if (allocator.prefixCaching()) {
                observer.onPrefixCacheLookup(s.length(), s.computed);
            }
            if (s.scheduledNanos == 0) {
                s.scheduledNanos = now;
                observer.onQueued((now - s.arrivalNanos) / 1e9);
            }
            plan.add(new Scheduled(s, n));
            budget -= n;
        }
        return plan;
    }

    /**
     * Takes the cached blocks of the longest known prefix of the sequence's tokens. The block
     * holding the last token is never taken: that token must run to produce the next logits, and
     * a shared block is never written again.
     */
    private void reuseCachedPrefix(Sequence s) {
        if (!allocator.prefixCaching()) {
            return;
        }
        int blockSize = s.blocks.blockSize();
        int matchable = (s.length() - 1) / blockSize;
        int matched = 0;
        while (matched < matchable) {
            int block = allocator.acquireCached(s.blockHash(matched, blockSize), s.blockKeys(matched, blockSize));
            if (block < 0) {
                break;
            }
            s.blocks.appendShared(block);
            matched++;
        }
        s.computed = matched * blockSize;
        s.registeredBlocks = matched;
    }

    /** Registers the sequence's blocks that became full in the step just run. */
    void registerFullBlocks(Sequence s) {
        if (!allocator.prefixCaching()) {
            return;
        }
        int blockSize = s.blocks.blockSize();
        while ((s.registeredBlocks + 1) * blockSize <= s.computed) {
            allocator.register(s.blocks.block(s.registeredBlocks), s.blockHash(s.registeredBlocks, blockSize),
                    s.blockKeys(s.registeredBlocks, blockSize));
            s.registeredBlocks++;
        }
    }

    /** A state slot for a sequence about to run (hybrid models); false if none is free. */
    private boolean takeStateSlot(Sequence s) {
        if (states == null || s.stateSlot >= 0) {
            return true;
        }
        s.stateSlot = states.allocate();
        return s.stateSlot >= 0;
    }

    private void releaseStateSlot(Sequence s) {
        if (s.stateSlot >= 0) {
            states.release(s.stateSlot);
            s.stateSlot = -1;
        }
    }

    private void forget(Sequence s) {
        s.blocks.release(allocator);
        releaseStateSlot(s);
        s.computed = 0;
        s.registeredBlocks = 0;
    }

    private void preempt(Sequence victim) {
        running.remove(victim);
        forget(victim);
        waiting.addFirst(victim);
        observer.onPreemption();
    }

    /** Removes a sequence wherever it is and frees its blocks. */
    void remove(Sequence s) {
        if (!running.remove(s)) {
            waiting.remove(s);
        }
        s.blocks.release(allocator);
        releaseStateSlot(s);
    }
}
