package ai.nuri.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The README's generate command, in-process. */
class GenerateCommandTest {
    static final Path DEMO = Path.of(System.getProperty("nuri.modelStore", "../model-store")).resolve("nuri-ko-mini");

    @Test
    void streamsTheDemoModelsAnswerToStdout() {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            code = new CommandLine(new NuriCli()).execute("generate", "--model", DEMO.toString(),
                    "--prompt", "여권 재발급은 어디서 하나요?");
        } finally {
            System.setOut(original);
        }
        assertEquals(0, code);
        assertEquals("여권 재발급은 가까운 시청, 구청, 도청의 여권 민원실에서 신청할 수 있습니다. 신분증과 여권 사진을 준비하세요.\n",
                captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpListsTheCommands() {
        String usage = new CommandLine(new NuriCli()).getUsageMessage();
        assertTrue(usage.contains("generate") && usage.contains("train") && usage.contains("make-bench-model"), usage);
    }
}
