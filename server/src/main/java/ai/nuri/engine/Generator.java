package ai.nuri.engine;

import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * Generates one sequence and waits for it: the engine's asynchronous stream seen as a call. The
 * CLI, the trainer's evaluation and the benchmarks use it; text deltas reach {@code onText} on
 * the engine's output thread as they are produced.
 */
public final class Generator {
    private final Engine engine;

    public Generator(Engine engine) {
        this.engine = engine;
    }

    /** The finished generation; {@code tokens} includes a stop token if one ended it. */
    public record Result(String text, int[] tokens, FinishReason finishReason, int promptTokens) {}

    public Result generate(int[] prompt, SamplingParams params, Consumer<String> onText) {
        return generate(prompt, List.of(), params, onText);
    }

    /** With the prompt's images, in the order of their image tokens. */
    public Result generate(int[] prompt, List<EngineImage> images, SamplingParams params, Consumer<String> onText) {
        return generate(prompt, images, params, null, onText);
    }

    /** With an output constraint (null: none). */
    public Result generate(int[] prompt, List<EngineImage> images, SamplingParams params, ai.nuri.guide.Grammar constraint,
            Consumer<String> onText) {
        CompletableFuture<Result> done = new CompletableFuture<>();
        StringBuilder text = new StringBuilder();
        int[][] tokens = {new int[16]};
        int[] count = {0};
        engine.submit(new EngineRequest(UUID.randomUUID().toString(), prompt, params, -1, new SequenceListener() {
            @Override
            public void onDelta(String delta, int[] newTokens, List<TokenLogprob> logprobs) {
                for (int t : newTokens) {
                    if (count[0] == tokens[0].length) {
                        tokens[0] = Arrays.copyOf(tokens[0], count[0] * 2);
                    }
                    tokens[0][count[0]++] = t;
                }
                if (!delta.isEmpty()) {
                    text.append(delta);
                    onText.accept(delta);
                }
            }

            @Override
            public void onFinish(FinishReason reason, int promptTokens, int completionTokens) {
                done.complete(new Result(text.toString(), Arrays.copyOf(tokens[0], count[0]), reason, promptTokens));
            }

            @Override
            public void onAbort(String reason) {
                done.completeExceptionally(new IllegalStateException("generation aborted: " + reason));
            }
        }, images, constraint));
        try {
            return done.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }
}
