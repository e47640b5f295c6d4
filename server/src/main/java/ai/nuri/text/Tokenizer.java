package ai.nuri.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A model's tokenizer: DJL's HuggingFaceTokenizer over {@code tokenizer.json} with truncation and
 * padding off (its default truncates at 512 tokens) and no special tokens added implicitly (the
 * chat template writes them), plus the special tokens and chat template of
 * {@code tokenizer_config.json}.
 */
public final class Tokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Integer> addedTokens;
    private final String bosToken;
    private final String eosToken;
    private final ChatTemplate chatTemplate;

    private Tokenizer(HuggingFaceTokenizer tokenizer, Map<String, Integer> addedTokens, String bosToken,
            String eosToken, ChatTemplate chatTemplate) {
        this.tokenizer = tokenizer;
        this.addedTokens = addedTokens;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.chatTemplate = chatTemplate;
    }

    public static Tokenizer load(Path folder) throws IOException {
        Path file = folder.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": missing (a model folder needs tokenizer.json)");
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, Integer> added = new HashMap<>();
        for (JsonNode t : json.readTree(file.toFile()).path("added_tokens")) {
            added.put(t.path("content").asText(), t.path("id").asInt());
        }
        String bos = null;
        String eos = null;
        String template = null;
        Path configFile = folder.resolve("tokenizer_config.json");
        if (Files.isRegularFile(configFile)) {
            JsonNode config = json.readTree(configFile.toFile());
            bos = tokenText(config.get("bos_token"));
            eos = tokenText(config.get("eos_token"));
            JsonNode t = config.get("chat_template");
            if (t != null && t.isTextual()) {
                template = t.asText();
            } else if (t != null && t.isArray()) {
                // Named templates: [{"name": "default", "template": "..."}, ...]
                for (JsonNode named : t) {
                    if (named.path("name").asText().equals("default")) {
                        template = named.path("template").asText();
                    }
                }
            }
        }
        HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder()
                .optTokenizerPath(file)
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .optPadding(false)
                .build();
        return new Tokenizer(hf, added, bos, eos, template == null ? null : new ChatTemplate(template, bos, eos));
    }

    private static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        return node.isTextual() ? node.asText() : node.path("content").asText(null);
    }

    /** Token ids of {@code text}; special-token text (e.g. "<|im_start|>") becomes its id. */
    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    public String decode(int[] ids, boolean skipSpecialTokens) {
        return decode(ids, 0, ids.length, skipSpecialTokens);
    }

    public String decode(int[] ids, int from, int to, boolean skipSpecialTokens) {
        long[] l = new long[to - from];
        for (int i = from; i < to; i++) {
            l[i - from] = ids[i];
        }
        return tokenizer.decode(l, skipSpecialTokens);
    }

    /** The id of an added (special) token, e.g. "<|im_end|>". */
    public OptionalInt specialTokenId(String token) {
        Integer id = addedTokens.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    public Optional<String> bosToken() {
        return Optional.ofNullable(bosToken);
    }

    public Optional<String> eosToken() {
        return Optional.ofNullable(eosToken);
    }

    public Optional<ChatTemplate> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
