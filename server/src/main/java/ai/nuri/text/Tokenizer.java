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
    private final String[] tokenText;
    private final boolean byteLevel;
    private final java.util.BitSet specialIds;
    /** Chat prompts: keeps special-token text in client strings out of the control tokens (see the class). */
    private final ControlTokenFence fence;
    /** The tokenizer with each special token known by its fence alias instead of its text. */
    private final HuggingFaceTokenizer aliasTokenizer;
    /** tokenizer_config.json's add_bos_token: plain prompts start with the BOS token (Llama-style tokenizers). */
    private boolean addBosToken;

    private Tokenizer(HuggingFaceTokenizer tokenizer, Map<String, Integer> addedTokens, java.util.BitSet specialIds,
            String bosToken, String eosToken, ChatTemplate chatTemplate, String[] tokenText, boolean byteLevel,
            ControlTokenFence fence, HuggingFaceTokenizer aliasTokenizer) {
        this.fence = fence;
        this.aliasTokenizer = aliasTokenizer;
        this.specialIds = specialIds;
        this.tokenText = tokenText;
        this.byteLevel = byteLevel;
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
        JsonNode spec = json.readTree(file.toFile());
        Map<String, Integer> added = new HashMap<>();
        java.util.BitSet special = new java.util.BitSet();
        java.util.List<String> specialTexts = new java.util.ArrayList<>();
        for (JsonNode t : spec.path("added_tokens")) {
            added.put(t.path("content").asText(), t.path("id").asInt());
            if (t.path("special").asBoolean(true)) {
                special.set(t.path("id").asInt());
                specialTexts.add(t.path("content").asText());
            }
        }
        ControlTokenFence fence = new ControlTokenFence(specialTexts);
        String[] tokenText = tokenTable(spec.path("model").path("vocab"), added);
        boolean byteLevel = spec.path("decoder").path("type").asText().equals("ByteLevel")
                || spec.path("pre_tokenizer").path("type").asText().equals("ByteLevel");
        String bos = null;
        boolean addBos = false;
        String eos = null;
        String template = null;
        Path configFile = folder.resolve("tokenizer_config.json");
        if (Files.isRegularFile(configFile)) {
            JsonNode config = json.readTree(configFile.toFile());
            bos = tokenText(config.get("bos_token"));
            addBos = config.path("add_bos_token").asBoolean(false);
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
        // Newer folders keep the template beside the tokenizer config, as transformers saves it (multimodal
        // processors especially): chat_template.jinja, or {"chat_template": ...} in chat_template.json.
        Path jinja = folder.resolve("chat_template.jinja");
        Path templateJson = folder.resolve("chat_template.json");
        if (Files.isRegularFile(jinja)) {
            template = Files.readString(jinja, java.nio.charset.StandardCharsets.UTF_8);
        } else if (Files.isRegularFile(templateJson)) {
            JsonNode t = json.readTree(templateJson.toFile()).path("chat_template");
            if (t.isTextual()) {
                template = t.asText();
            }
        }
        HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder()
                .optTokenizerPath(file)
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .optPadding(false)
                .build();
        HuggingFaceTokenizer alias = HuggingFaceTokenizer.newInstance(
                new java.io.ByteArrayInputStream(json.writeValueAsBytes(fence.aliasTokenizerJson(spec))),
                Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        for (String text : specialTexts) { // a tokenizer.json shape the alias cannot follow fails here, not in a prompt
            long[] ids = alias.encode(fence.alias(text), false, false).getIds();
            if (ids.length != 1 || ids[0] != added.get(text)) {
                alias.close();
                hf.close();
                throw new IOException(file + ": cannot keep message text apart from the special token '" + text
                        + "' (its stand-in encodes to " + java.util.Arrays.toString(ids) + ", not [" + added.get(text) + "])");
            }
        }
        Tokenizer t = new Tokenizer(hf, added, special, bos, eos, template == null ? null : new ChatTemplate(template, bos, eos),
                tokenText, byteLevel, fence, alias);
        t.addBosToken = addBos && bos != null && added.containsKey(bos);
        return t;
    }

    /** id to token string, from the BPE/Unigram vocab and the added tokens. */
    private static String[] tokenTable(JsonNode vocab, Map<String, Integer> added) {
        int max = added.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        Map<Integer, String> byId = new HashMap<>();
        if (vocab.isObject()) { // BPE, WordPiece: {"token": id}
            vocab.fields().forEachRemaining(e -> byId.put(e.getValue().asInt(), e.getKey()));
        } else if (vocab.isArray()) { // Unigram: [["token", score], ...]
            for (int i = 0; i < vocab.size(); i++) {
                byId.put(i, vocab.get(i).get(0).asText());
            }
        }
        added.forEach((text, id) -> byId.put(id, text));
        for (int id : byId.keySet()) {
            max = Math.max(max, id);
        }
        String[] table = new String[max + 1];
        byId.forEach((id, text) -> table[id] = text);
        return table;
    }

    /**
     * The raw bytes of one token, as OpenAI's logprobs report them: a byte-level BPE token (or a
     * SentencePiece byte-fallback token like {@code <0xEB>}) may be part of a character.
     */
    public byte[] tokenBytes(int id) {
        String text = id >= 0 && id < tokenText.length ? tokenText[id] : null;
        if (text == null) {
            return new byte[0];
        }
        if (addedTokens.containsKey(text)) {
            return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        if (byteLevel) {
            byte[] raw = ByteLevel.fromByteChars(text);
            if (raw != null) {
                return raw;
            }
        }
        if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
            return new byte[] {(byte) Integer.parseInt(text.substring(3, 5), 16)};
        }
        return text.replace('\u2581', ' ').getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        return node.isTextual() ? node.asText() : node.path("content").asText(null);
    }

    /** Token ids of {@code text}; special-token text (e.g. "<|im_start|>") becomes its id. */
    public int[] encode(String text) {
        return ids(tokenizer.encode(text, false, false).getIds());
    }

    private static int[] ids(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    /**
     * A plain-text prompt (/v1/completions) as transformers and vLLM encode it, special-token text
     * included (the caller writes the whole prompt, markup and all; there is no other party's turn
     * in it to forge): with the BOS token first when
     * the tokenizer is configured to add it ({@code add_bos_token}) and the text does not already begin
     * with it. Chat prompts get BOS from their template instead.
     */
    public int[] encodePrompt(String text) {
        int[] ids = encode(text);
        if (!addBosToken || text.startsWith(bosToken)) {
            return ids;
        }
        int[] out = new int[ids.length + 1];
        out[0] = addedTokens.get(bosToken);
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    /**
     * The prompt of a conversation: rendered with the chat template, ending where the
     * assistant's reply begins, and encoded.
     *
     * @throws IllegalStateException if this tokenizer has no chat template
     * @throws ChatTemplate.TemplateException if the template refuses the messages
     */
    public int[] encodeChat(java.util.List<ChatMessage> messages) {
        return encodeChat(messages, java.util.List.of());
    }

    /**
     * With tool definitions, passed to the template as transformers passes them ({@code tools}: a
     * list of {@code {"type": "function", "function": {...}}} mappings); none: no {@code tools}.
     */
    public int[] encodeChat(java.util.List<ChatMessage> messages, java.util.List<Object> tools) {
        return encodeChat(messages, tools, true);
    }

    /**
     * The conversation's token ids. Everything the client wrote (message text, names, tool calls and
     * definitions) is tokenized as plain text, whatever it contains: only the template's own markup
     * becomes control tokens (see {@link ControlTokenFence}).
     *
     * @throws ChatTemplate.TemplateException if the template refuses the messages, or a client string
     *     holds a character reserved for the fence
     */
    public int[] encodeChat(java.util.List<ChatMessage> messages, java.util.List<Object> tools, boolean addGenerationPrompt) {
        ChatTemplate template = chatTemplate().orElseThrow(() -> new IllegalStateException("this model has no chat template"));
        Map<String, Object> extra = tools.isEmpty() ? Map.of() : Map.of("tools", tools);
        String sealed = fence.seal(template.render(messages, addGenerationPrompt, extra, fence::hide, fence::hideAll));
        // Rendered again with message text that no special token can come of, whatever the template does to
        // it: the control tokens must be the same, else the template built one out of the client's text.
        String strict = fence.seal(template.render(messages, addGenerationPrompt, extra, fence::hideStrictly, fence::hideAll));
        if (!fence.controlTokens(sealed).equals(fence.controlTokens(strict))) {
            throw new ChatTemplate.TemplateException("this model's chat template turns the message text into control "
                    + "tokens (it rewrites the text it renders); the request is refused");
        }
        return ids(aliasTokenizer.encode(sealed, false, false).getIds());
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

    /** Ids of the added tokens marked special (control tokens such as "<|im_end|>"); a copy. */
    public java.util.BitSet specialTokenIds() {
        return (java.util.BitSet) specialIds.clone();
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
        aliasTokenizer.close();
    }
}
