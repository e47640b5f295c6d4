package ai.nuri.text;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains a byte-level BPE tokenizer and writes it as a standard Hugging Face {@code tokenizer.json}
 * (loadable by DJL's HuggingFaceTokenizer and by Python's tokenizers). Ids: the special tokens
 * first, then the 256 byte symbols, then one id per merge in the order learned.
 *
 * <p>The algorithm is the textbook one: count pre-token frequencies, then repeatedly merge the
 * most frequent adjacent pair (ties broken by the pair's text, so training is deterministic).
 */
public final class BpeTrainer {
    private final int vocabSize;
    private final List<String> specialTokens;
    private final Map<String, Integer> wordCounts = new HashMap<>();

    public BpeTrainer(int vocabSize, List<String> specialTokens) {
        if (vocabSize < specialTokens.size() + 256) {
            throw new IllegalArgumentException("vocab size must cover the special tokens and 256 bytes");
        }
        this.vocabSize = vocabSize;
        this.specialTokens = List.copyOf(specialTokens);
    }

    public void add(String text) {
        for (String piece : ByteLevel.preTokenize(text)) {
            wordCounts.merge(piece, 1, Integer::sum);
        }
    }

    /** The result: vocab (token to id) and merges in rank order. */
    public record Result(Map<String, Integer> vocab, List<String[]> merges) {}

    public Result train() {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : specialTokens) {
            vocab.put(s, vocab.size());
        }
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(ByteLevel.charOf(b)), vocab.size());
        }
        List<List<String>> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        wordCounts.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            List<String> symbols = new ArrayList<>();
            e.getKey().codePoints().forEach(cp -> symbols.add(new String(Character.toChars(cp))));
            words.add(symbols);
            counts.add(e.getValue());
        });
        List<String[]> merges = new ArrayList<>();
        while (vocab.size() < vocabSize) {
            String[] best = mostFrequentPair(words, counts);
            if (best == null) {
                break; // every word is a single symbol: nothing left to merge
            }
            String merged = best[0] + best[1];
            merges.add(best);
            vocab.putIfAbsent(merged, vocab.size());
            for (List<String> w : words) {
                applyMerge(w, best[0], best[1], merged);
            }
        }
        return new Result(vocab, merges);
    }

    private static String[] mostFrequentPair(List<List<String>> words, List<Integer> counts) {
        Map<String, long[]> pairCounts = new HashMap<>();
        Map<String, String[]> pairs = new HashMap<>();
        for (int i = 0; i < words.size(); i++) {
            List<String> w = words.get(i);
            for (int j = 0; j + 1 < w.size(); j++) {
                String key = w.get(j) + '\u0000' + w.get(j + 1);
                pairCounts.computeIfAbsent(key, k -> new long[1])[0] += counts.get(i);
                if (!pairs.containsKey(key)) {
                    pairs.put(key, new String[] {w.get(j), w.get(j + 1)});
                }
            }
        }
        String bestKey = null;
        long bestCount = 0;
        for (Map.Entry<String, long[]> e : pairCounts.entrySet()) {
            long c = e.getValue()[0];
            if (c > bestCount || (c == bestCount && bestKey != null && e.getKey().compareTo(bestKey) < 0)) {
                bestKey = e.getKey();
                bestCount = c;
            }
        }
        return bestKey == null ? null : pairs.get(bestKey);
    }

    private static void applyMerge(List<String> w, String a, String b, String merged) {
        for (int j = 0; j + 1 < w.size(); j++) {
            if (w.get(j).equals(a) && w.get(j + 1).equals(b)) {
                w.set(j, merged);
                w.remove(j + 1);
            }
        }
    }

    /** Writes {@code tokenizer.json} in the format of Hugging Face tokenizers. */
    public static void writeTokenizerJson(Result result, List<String> specialTokens, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : specialTokens) {
            ObjectNode t = added.addObject();
            t.put("id", result.vocab().get(s));
            t.put("content", s);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(json, true));
        root.set("post_processor", byteLevel(json, false));
        root.set("decoder", byteLevel(json, true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        result.vocab().forEach(vocab::put);
        ArrayNode merges = model.putArray("merges");
        for (String[] m : result.merges()) {
            merges.add(m[0] + " " + m[1]);
        }
        json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }

    private static ObjectNode byteLevel(ObjectMapper json, boolean trimOffsets) {
        ObjectNode n = json.createObjectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", false); // Korean text gets no invented leading space
        n.put("trim_offsets", trimOffsets);
        n.put("use_regex", true);
        return n;
    }
}
