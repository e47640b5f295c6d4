package ai.nuri.loadtest.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The prompts a run sends: the bundled Korean public-service set, a ShareGPT-format file, or
 * random prompts of a given length. The tool has no tokenizer (it measures any server), so
 * lengths are what the server is asked for: {@code outputLen} becomes max_tokens.
 */
final class Dataset {
    /** One prompt: text, or token ids (random prompts for the completions endpoint, exact in length). */
    record Prompt(String text, int[] tokenIds, int outputLen) {}

    static final String BUNDLED = "ko-public-service";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Dataset() {}

    /** {@code n} prompts from {@code source} ("ko-public-service", "random", or a ShareGPT JSON file), shuffled by {@code seed}. */
    static List<Prompt> load(String source, int n, long seed, Integer inputLen, Integer outputLen, boolean completions)
            throws IOException {
        List<Prompt> all = switch (source) {
            case BUNDLED -> bundled();
            case "random" -> random(n, seed, inputLen == null ? 128 : inputLen, outputLen == null ? 128 : outputLen, completions);
            default -> shareGpt(Path.of(source));
        };
        if (all.isEmpty()) {
            throw new IllegalArgumentException("the dataset '" + source + "' has no usable prompts");
        }
        // Without replacement (a repeated prompt would meet a warm prefix cache), reshuffled if n exceeds the set.
        SplittableRandom r = new SplittableRandom(seed);
        List<Prompt> out = new ArrayList<>();
        List<Prompt> deck = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (deck.isEmpty()) {
                deck.addAll(all);
                if (!source.equals("random")) {
                    java.util.Collections.shuffle(deck, new java.util.Random(r.nextLong()));
                }
            }
            Prompt p = deck.remove(deck.size() - 1);
            out.add(outputLen == null ? p : new Prompt(p.text(), p.tokenIds(), outputLen));
        }
        return out;
    }

    static List<Prompt> bundled() throws IOException {
        List<Prompt> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                Dataset.class.getResourceAsStream("/loadtest/ko-public-service-prompts.jsonl"), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode row = JSON.readTree(line);
                out.add(new Prompt(row.get("prompt").asText(), null, row.get("output_len").asInt()));
            }
        }
        return out;
    }

    /**
     * ShareGPT: a JSON list of {"conversations": [{"from": "human", "value"}, {"from": "gpt", "value"}, ...]};
     * the first human turn is the prompt, the reply's length (one token per 2 characters, at least 4) its output length.
     */
    static List<Prompt> shareGpt(Path file) throws IOException {
        JsonNode root = JSON.readTree(file.toFile());
        List<Prompt> out = new ArrayList<>();
        for (JsonNode conv : root) {
            JsonNode turns = conv.path("conversations");
            if (turns.size() < 2 || !turns.get(0).path("from").asText().equals("human")) {
                continue;
            }
            String reply = turns.get(1).path("value").asText();
            out.add(new Prompt(turns.get(0).path("value").asText(), null, Math.max(4, (reply.length() + 1) / 2)));
        }
        return out;
    }

    /** Random prompts: token ids for completions (exactly {@code inputLen}), else that many random Hangul syllables. */
    static List<Prompt> random(int n, long seed, int inputLen, int outputLen, boolean completions) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        List<Prompt> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (completions) {
                int[] ids = new int[inputLen];
                for (int j = 0; j < inputLen; j++) {
                    ids[j] = 100 + r.nextInt(900);
                }
                out.add(new Prompt(null, ids, outputLen));
            } else {
                StringBuilder sb = new StringBuilder();
                for (int j = 0; j < inputLen; j++) {
                    sb.append((char) (0xAC00 + r.nextInt(11172)));
                    if (r.nextInt(4) == 0) {
                        sb.append(' ');
                    }
                }
                out.add(new Prompt(sb.toString(), null, outputLen));
            }
        }
        return out;
    }
}
