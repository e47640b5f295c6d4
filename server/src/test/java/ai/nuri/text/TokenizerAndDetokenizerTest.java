package ai.nuri.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The project's BPE trainer produces a tokenizer.json that DJL's HuggingFaceTokenizer loads; on it,
 * encode/decode round-trips Korean, emoji and mixed scripts, and the incremental detokenizer's
 * deltas add up to the full decode without a broken character.
 */
class TokenizerAndDetokenizerTest {
    @TempDir
    static Path dir;

    static Tokenizer tokenizer;

    static final List<String> SAMPLES = List.of(
            "여권 재발급은 어디서 하나요?",
            "주민등록등본은 정부24에서 무료로 발급받을 수 있습니다.",
            "안녕하세요 🙂👋🏽 반가워요!",
            "Nuri(누리)는 JVM에서 LLM을 서빙합니다 — 速度 & 品質, 123.45%",
            "줄바꿈\n\t탭과  두 칸 공백",
            "똠얌꿍 뷁 쀍");

    @BeforeAll
    static void train() throws IOException {
        BpeTrainer trainer = new BpeTrainer(350, List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>"));
        for (int i = 0; i < 20; i++) {
            trainer.add("여권 재발급은 여권 민원실에서 합니다. 주민등록등본은 정부24에서 발급받습니다.");
            trainer.add("행정복지센터에 방문하세요. 안녕하세요, 무엇을 도와드릴까요?");
        }
        BpeTrainer.Result result = trainer.train();
        assertEquals(350, result.vocab().size(), "the corpus supports 350 tokens");
        BpeTrainer.writeTokenizerJson(result, List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>"),
                dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|im_end|>\"}");
        tokenizer = Tokenizer.load(dir);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void frequentKoreanWordsBecomeSingleTokensAndSpecialTokensKeepTheirIds() {
        assertEquals(1, tokenizer.encode("여권").length, "a frequent word is merged into one token");
        assertEquals(2, tokenizer.specialTokenId("<|im_end|>").getAsInt());
        int[] ids = tokenizer.encode("<|im_start|>user\n여권<|im_end|>");
        assertEquals(1, ids[0]);
        assertEquals(2, ids[ids.length - 1]);
        assertEquals("user\n여권", tokenizer.decode(ids, true));
        assertEquals("<|im_start|>user\n여권<|im_end|>", tokenizer.decode(ids, false));
    }

    @Test
    void roundTripsKoreanEmojiAndMixedScripts() {
        for (String s : SAMPLES) {
            assertEquals(s, tokenizer.decode(tokenizer.encode(s), false), s);
        }
    }

    @Test
    void longInputIsNotTruncated() {
        String longText = "주민등록등본은 정부24에서 발급받습니다. ".repeat(200);
        int[] ids = tokenizer.encode(longText);
        assertTrue(ids.length > 512, "more than the 512 tokens DJL truncates to by default: " + ids.length);
        assertEquals(longText, tokenizer.decode(ids, false));
    }

    @Test
    void incrementalDeltasConcatenateToTheFullDecodeWithoutBrokenCharacters() {
        boolean heldBack = false;
        for (String s : SAMPLES) {
            int[] ids = tokenizer.encode(s);
            IncrementalDetokenizer detok = new IncrementalDetokenizer(tokenizer, true);
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) {
                String delta = detok.add(id);
                assertFalse(delta.contains("\uFFFD"), "a delta carried a broken character: " + s);
                heldBack |= delta.isEmpty();
                streamed.append(delta);
            }
            streamed.append(detok.flush());
            assertEquals(tokenizer.decode(ids, true), streamed.toString());
            assertEquals(s, streamed.toString());
        }
        assertTrue(heldBack, "some token ended mid-character, so the hold-back path ran");
    }

    @Test
    void anIncompleteCharacterAtTheEndIsFlushedAsTheFullDecodeShowsIt() {
        int[] ids = tokenizer.encode("뷁");
        assertTrue(ids.length > 1, "an unseen syllable is split into byte tokens");
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tokenizer, true);
        StringBuilder streamed = new StringBuilder();
        for (int i = 0; i < ids.length - 1; i++) {
            streamed.append(detok.add(ids[i]));
        }
        assertEquals("", streamed.toString(), "nothing is emitted before the syllable is complete");
        streamed.append(detok.flush());
        assertEquals(tokenizer.decode(java.util.Arrays.copyOf(ids, ids.length - 1), true), streamed.toString());
    }

    @Test
    void tokenBytesConcatenateToTheTextEvenWhenATokenSplitsACharacter() {
        boolean split = false;
        for (String s : SAMPLES) {
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            for (int id : tokenizer.encode(s)) {
                byte[] raw = tokenizer.tokenBytes(id);
                split |= new String(raw, java.nio.charset.StandardCharsets.UTF_8).contains("\uFFFD");
                all.writeBytes(raw);
            }
            assertArrayEquals(s.getBytes(java.nio.charset.StandardCharsets.UTF_8), all.toByteArray(), s);
        }
        assertTrue(split, "some token held only part of a character");
        assertArrayEquals("<|im_end|>".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                tokenizer.tokenBytes(tokenizer.specialTokenId("<|im_end|>").getAsInt()));
    }

    @Test
    void byteLevelPreTokenizationMatchesTheTokenizerItFeeds() {
        // Every pre-token of the trainer's splitter encodes to byte-level characters the vocab covers.
        List<String> pieces = ByteLevel.preTokenize("안녕 하세요, world!");
        assertEquals(List.of("ìķĪëħķ", "ĠíķĺìĦ¸ìļĶ", ",", "Ġworld", "!"), pieces);
        assertArrayEquals(tokenizer.encode("안녕 하세요"), tokenizer.encode("안녕 하세요"));
    }
}
