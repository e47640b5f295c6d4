package ai.nuri.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.media.RgbImage;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** The demo vision model's pictures: fixed by their seed, each question answerable from the picture. */
class ShapeScenesTest {
    @Test
    void aSeedAlwaysDrawsTheSamePictureAndEveryKindOfQuestionOccurs() throws Exception {
        ShapeScenes scenes = new ShapeScenes();
        assertArrayEquals(scenes.scene(42).image().rgb(), scenes.scene(42).image().rgb());
        Set<String> questions = new HashSet<>();
        Set<String> answers = new HashSet<>(ShapeScenes.sentences());
        BufferedImage sheet = new BufferedImage(8 * 52, 52, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 400; i++) {
            ShapeScenes.Scene s = scenes.scene(i);
            questions.add(s.question().replaceAll("^(원|네모|세모)[은는]", "X"));
            assertTrue(answers.contains(s.answer()), "every answer is one of the known sentences: " + s.answer());
            assertTrue(ink(s.image()) > 20, "something is drawn in picture " + i);
            if (i < 8) {
                for (int y = 0; y < ShapeScenes.SIZE; y++) {
                    for (int x = 0; x < ShapeScenes.SIZE; x++) {
                        sheet.setRGB(i * 52 + 2 + x, 2 + y, (s.image().sample(x, y, 0) << 16)
                                | (s.image().sample(x, y, 1) << 8) | s.image().sample(x, y, 2));
                    }
                }
            }
        }
        assertEquals(5, questions.size(), questions.toString());
        Path shots = Path.of("target/screenshots");
        Files.createDirectories(shots);
        ImageIO.write(sheet, "png", shots.resolve("vision-scenes.png").toFile());
    }

    /** Pixels far from the light background. */
    static int ink(RgbImage img) {
        int n = 0;
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                n += img.sample(x, y, 0) + img.sample(x, y, 1) + img.sample(x, y, 2) < 500 ? 1 : 0;
            }
        }
        return n;
    }
}
