package ai.nuri.loadtest;

import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineConfig;
import ai.nuri.engine.EngineObserver;
import ai.nuri.engine.Generator;
import ai.nuri.engine.Sampler;
import ai.nuri.engine.SamplingParams;
import ai.nuri.guide.Constraints;
import ai.nuri.guide.Grammar;
import ai.nuri.guide.GuidedSequence;
import ai.nuri.guide.TokenVocabulary;
import ai.nuri.model.LanguageModel;
import ai.nuri.text.ChatMessage;
import ai.nuri.text.Tokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * What constrained decoding costs. Part 1, per step, against vocabulary size (the demo
 * tokenizer's own pieces, then 32k and 128k vocabularies grown from byte-level pieces of the
 * corpus) and schema size: the first visit of a grammar state (the trie walk), and a step whose
 * mask is cached (lookup, masking a logits row, advancing). Part 2, with the demo model: decode
 * throughput of 16 constrained streams against 16 free ones.
 *
 * <pre>java -cp "loadtest/target/nuri-loadtest-*.jar:server/target/nuri-server.jar" \
 *     ai.nuri.loadtest.GuideBenchmark model-store/nuri-ko-mini</pre>
 */
public final class GuideBenchmark {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SMALL = "{\"type\":\"object\",\"properties\":{\"이름\":{\"type\":\"string\",\"maxLength\":12},"
            + "\"나이\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":150}},\"required\":[\"이름\",\"나이\"]}";

    public static void main(String[] args) throws Exception {
        if (System.getProperty("offline") == null) {
            System.setProperty("offline", "true");
        }
        Path folder = Path.of(args.length > 0 ? args[0] : "model-store/nuri-ko-mini");
        try (Tokenizer tokenizer = Tokenizer.load(folder); LanguageModel model = LanguageModel.load(folder)) {
            int vocab = model.config().vocabSize();
            byte[][] demoPieces = new byte[vocab][];
            for (int id = 0; id < vocab; id++) {
                demoPieces[id] = tokenizer.tokenBytes(id);
            }
            BitSet special = tokenizer.specialTokenIds();
            String corpus = Files.readString(folder.getParent().resolve("corpus/ko-public-service-qa.jsonl"));
            Grammar small = Constraints.jsonSchema(JSON.readTree(SMALL), "small");
            Grammar large = Constraints.jsonSchema(JSON.readTree(largeSchema()), "large");
            System.out.printf("grammars: small=%d states, large=%d states%n", small.states(), large.states());
            System.out.println("vocab   schema  trie_nodes  cold_ms(median,p99)  warm_us(median,p99)");
            for (int size : new int[] {vocab, 32_000, 128_000}) {
                byte[][] pieces = size == vocab ? demoPieces : grown(demoPieces, corpus, size);
                for (Grammar g : List.of(small, large)) {
                    measure(pieces, special, g, size);
                }
            }
            throughput(model, tokenizer, small);
        }
    }

    /** A nested schema with enums, formats, arrays and ranges: a few thousand grammar states. */
    static String largeSchema() {
        StringBuilder props = new StringBuilder();
        String[] kinds = {"{\"type\":\"string\",\"enum\":[\"서울특별시\",\"부산광역시\",\"세종특별자치시\"]}",
            "{\"type\":\"string\",\"format\":\"date\"}", "{\"type\":\"integer\",\"minimum\":-1000,\"maximum\":100000}",
            "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":8},\"maxItems\":4}",
            "{\"type\":\"object\",\"properties\":{\"주소\":{\"type\":\"string\",\"maxLength\":20},\"우편번호\":{\"type\":\"string\","
                + "\"pattern\":\"^[0-9]{5}$\"}},\"required\":[\"주소\"]}", "{\"type\":\"boolean\"}",
            "{\"anyOf\":[{\"type\":\"number\",\"minimum\":0,\"maximum\":100},{\"type\":\"null\"}]}"};
        List<String> required = new ArrayList<>();
        for (int i = 0; i < 14; i++) {
            if (i > 0) {
                props.append(',');
            }
            props.append("\"항목").append(i).append("\":").append(kinds[i % kinds.length]);
            if (i % 3 != 2) {
                required.add("\"항목" + i + "\"");
            }
        }
        return "{\"type\":\"object\",\"properties\":{" + props + "},\"required\":[" + String.join(",", required)
                + "],\"additionalProperties\":false}";
    }

    /** The demo pieces plus byte-level pieces cut from the corpus (1 to 12 bytes, UTF-8 split anywhere) up to {@code size}. */
    static byte[][] grown(byte[][] base, String corpus, int size) {
        Set<String> seen = new LinkedHashSet<>();
        List<byte[]> out = new ArrayList<>(Arrays.asList(base));
        for (byte[] b : base) {
            seen.add(Arrays.toString(b));
        }
        byte[] text = corpus.getBytes(StandardCharsets.UTF_8);
        SplittableRandom r = new SplittableRandom(1);
        while (out.size() < size) {
            int at = r.nextInt(text.length - 16);
            byte[] piece = Arrays.copyOfRange(text, at, at + 1 + r.nextInt(12));
            if (seen.add(Arrays.toString(piece))) {
                out.add(piece);
            }
        }
        return out.toArray(new byte[0][]);
    }

    static void measure(byte[][] pieces, BitSet special, Grammar g, int size) {
        TokenVocabulary vocab = new TokenVocabulary(pieces, special, 1L << 30);
        SplittableRandom r = new SplittableRandom(7);
        float[] logits = new float[pieces.length];
        List<Double> cold = new ArrayList<>();
        List<Double> warm = new ArrayList<>();
        for (int walk = 0; walk < 30; walk++) {
            GuidedSequence s = new GuidedSequence(g, vocab);
            for (int step = 0; step < 200 && !s.mustEnd(); step++) {
                long before = vocab.cacheStats()[1];
                long t0 = System.nanoTime();
                long[] mask = s.allowedTokens();
                Sampler.constrain(logits, mask, new int[0]);
                int token = pick(mask, r);
                if (token < 0) {
                    break;
                }
                s.advance(token);
                double elapsed = (System.nanoTime() - t0) / 1e3;
                (vocab.cacheStats()[1] > before ? warm : cold).add(elapsed);
            }
        }
        System.out.printf("%-7d %-7s %-11d %8.2f %8.2f      %8.1f %8.1f%n", size, g.description().replace("json_schema ", ""),
                vocab.trieNodes(), pct(cold, 50) / 1e3, pct(cold, 99) / 1e3, pct(warm, 50), pct(warm, 99));
    }

    /** A uniformly random allowed token: the walk a random model takes. */
    static int pick(long[] mask, SplittableRandom r) {
        int count = 0;
        for (long w : mask) {
            count += Long.bitCount(w);
        }
        if (count == 0) {
            return -1;
        }
        int k = r.nextInt(count);
        for (int w = 0; w < mask.length; w++) {
            int c = Long.bitCount(mask[w]);
            if (k < c) {
                long bits = mask[w];
                for (int i = 0; i < k; i++) {
                    bits &= bits - 1;
                }
                return (w << 6) + Long.numberOfTrailingZeros(bits);
            }
            k -= c;
        }
        return -1;
    }

    static double pct(List<Double> values, int p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v[Math.min(v.length - 1, (int) Math.ceil(p / 100.0 * v.length) - 1)];
    }

    /** Decode tokens per second of 16 streams, free and then constrained (64 tokens each, end-of-sequence ignored). */
    static void throughput(LanguageModel model, Tokenizer tokenizer, Grammar schema) throws Exception {
        Grammar text = Constraints.regex("[^<>]*");
        try (Engine engine = new Engine(model, tokenizer, new EngineConfig(16, 512, 1024, 16, 64, 512), EngineObserver.NONE)) {
            int[] prompt = tokenizer.encodeChat(List.of(ChatMessage.user("여권 재발급은 어디서 하나요?")));
            for (String label : List.of("warmup", "free", "regex", "free", "regex")) {
                Grammar g = label.equals("regex") ? text : null;
                long t0 = System.nanoTime();
                List<CompletableFuture<Generator.Result>> runs = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    SamplingParams p = new SamplingParams(1.0, 1, 0, 0, 1, 0, 0, (long) i, 64, List.of(), List.of(), true);
                    runs.add(CompletableFuture.supplyAsync(() -> new Generator(engine).generate(prompt, List.of(), p, g, t -> { })));
                }
                int tokens = 0;
                for (CompletableFuture<Generator.Result> f : runs) {
                    tokens += f.get().tokens().length;
                }
                double s = (System.nanoTime() - t0) / 1e9;
                if (!label.equals("warmup")) {
                    System.out.printf("16 streams %-5s: %d tokens in %.2f s = %.0f tokens/s%n", label, tokens, s, tokens / s);
                }
            }
        }
    }
}
