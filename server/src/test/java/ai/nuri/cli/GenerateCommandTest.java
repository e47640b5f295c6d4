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
    void answersAboutAPictureFileWithImage(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        ai.nuri.model.train.ShapeScenes.Scene scene = new ai.nuri.model.train.ShapeScenes().scene(9_000_000_000L);
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(48, 48, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 48; y++) {
            for (int x = 0; x < 48; x++) {
                img.setRGB(x, y, (scene.image().sample(x, y, 0) << 16) | (scene.image().sample(x, y, 1) << 8)
                        | scene.image().sample(x, y, 2));
            }
        }
        Path picture = dir.resolve("picture.bmp");
        javax.imageio.ImageIO.write(img, "bmp", picture.toFile());
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            code = new CommandLine(new NuriCli()).execute("generate", "--model", DEMO.resolveSibling("nuri-ko-vision-mini").toString(),
                    "--image", picture.toString(), "--prompt", scene.question());
        } finally {
            System.setOut(original);
        }
        assertEquals(0, code);
        assertEquals(scene.answer() + "\n", captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpListsTheCommands() {
        String usage = new CommandLine(new NuriCli()).getUsageMessage();
        assertTrue(usage.contains("generate") && usage.contains("train") && usage.contains("make-bench-model"), usage);
    }
}
