package ai.nuri.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Each CLI mistake a new user makes is one line that says what is wrong, with exit code 2, never a stack trace. */
class CliMistakesTest {
    static final String STORE = Path.of(System.getProperty("nuri.modelStore", "../model-store")).toString();

    static String run(String... args) {
        StringWriter err = new StringWriter();
        int code = NuriCli.commandLine().setErr(new PrintWriter(err, true)).setOut(new PrintWriter(new StringWriter()))
                .execute(args);
        String text = err.toString().strip();
        assertEquals(2, code, text);
        assertTrue(!text.contains("\tat ") && !text.contains("Exception"), "no stack trace: " + text);
        return text;
    }

    @Test
    void mistakesAreOneLineErrors() {
        String models = run("serve", "--model-store", STORE, "--models", "nope");
        assertTrue(models.startsWith("nuri serve: --models: no model 'nope'") && !models.contains("\n"), models);
        String folder = run("serve", "--model", "/nonexistent/folder");
        assertTrue(folder.contains("not a model folder") && !folder.contains("\n"), folder);
        String store = run("serve", "--model-store", "/nonexistent/store");
        assertTrue(store.contains("is not a folder") && store.contains("--model PATH"), store);
        String gpu = run("serve", "--device", "gpu", "--model", STORE + "/nuri-ko-mini");
        assertTrue(gpu.contains("--device must be cpu or cuda:N"), gpu);
        String cuda = run("serve", "--device", "cuda:0", "--model", STORE + "/nuri-ko-mini");
        assertTrue(cuda.contains("no CUDA GPU") || cuda.contains("CUDA GPU(s)"), cuda);
        String dtype = run("serve", "--dtype", "bf16", "--model", STORE + "/nuri-ko-mini");
        assertTrue(dtype.contains("float32 or float16"), dtype);
    }

    @Test
    void generateRefusesWhatTheApiRefusesAndTrainKeepsTheBundledModel() {
        String hot = run("generate", "--model", STORE + "/nuri-ko-mini", "--prompt", "안녕", "--temperature", "9");
        assertTrue(hot.contains("--temperature must be >= 0 and <= 2, got 9.0"), hot);
        String topP = run("generate", "--model", STORE + "/nuri-ko-mini", "--prompt", "안녕", "--top-p", "0");
        assertTrue(topP.contains("--top-p must be greater than 0"), topP);
        String train = run("train", "--out", STORE + "/nuri-ko-mini", "--corpus", STORE + "/corpus/ko-public-service-qa.jsonl");
        assertTrue(train.contains("already holds a model") && train.contains("--force"), train);
        String vision = run("train-vision", "--out", STORE + "/nuri-ko-vision-mini");
        assertTrue(vision.contains("already holds a model"), vision);
    }

    @Test
    void anUnknownOptionGivesTheUsage() {
        StringWriter err = new StringWriter();
        int code = NuriCli.commandLine().setErr(new PrintWriter(err, true)).execute("serve", "--modle", "x");
        assertEquals(2, code);
        assertTrue(err.toString().startsWith("Unknown option") && err.toString().contains("'--modle'"), err.toString());
        assertTrue(err.toString().contains("--model-store"), "followed by the usage");
    }
}
