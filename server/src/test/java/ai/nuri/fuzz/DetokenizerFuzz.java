package ai.nuri.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.nuri.text.IncrementalDetokenizer;
import ai.nuri.text.Tokenizer;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Any token id sequence streams as whole characters whose concatenation is the full decode. */
class DetokenizerFuzz {
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Tokenizer.load(Fuzzing.DEMO);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @FuzzTest(maxDuration = Fuzzing.BUDGET)
    void deltasAddUpToTheDecode(FuzzedDataProvider data) {
        int[] ids = data.consumeInts(256);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = Math.floorMod(ids[i], 3072);
        }
        IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(tokenizer, true);
        StringBuilder streamed = new StringBuilder();
        for (int id : ids) {
            String delta = detokenizer.add(id);
            assertFalse(delta.contains("\uFFFD") && !tokenizer.decode(ids, true).contains("\uFFFD"),
                    "a delta broke a character the full decode keeps whole");
            streamed.append(delta);
        }
        streamed.append(detokenizer.flush());
        assertEquals(tokenizer.decode(ids, true), streamed.toString());
    }
}
