package ai.nuri.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Decoding and preprocessing against pixels made independently with Pillow
 * ({@code src/test/resources/llava/make_golden.py}: transformers' CLIP and SigLIP image processors'
 * PIL path). The comparison is exact: every float must be the very float transformers computes.
 */
class ImagePipelineTest {
    static final Path LLAVA = Path.of("src/test/resources/llava");
    static final ImageDecoder DECODER = new ImageDecoder(1 << 24);

    static RgbImage image(String name) throws IOException {
        return DECODER.decode(Files.readAllBytes(LLAVA.resolve("images").resolve(name)));
    }

    @ParameterizedTest
    @CsvSource({"siglip-old, scene.png, pixel_values", "siglip-old, alpha.png, pixel_values_alpha",
        "clip-new, scene.png, pixel_values", "clip-new, alpha.png, pixel_values_alpha"})
    void preprocessingMatchesTransformersToTheBit(String model, String file, String field) throws IOException {
        JsonNode golden = new ObjectMapper().readTree(LLAVA.resolve(model).resolve("golden.json").toFile()).get(field);
        ImagePreprocessor pre = ImagePreprocessor.read(LLAVA.resolve(model).resolve("preprocessor_config.json"));
        ImagePreprocessor.Pixels px = pre.apply(image(file));
        assertEquals(golden.get(0).size(), px.height());
        assertEquals(golden.get(0).get(0).size(), px.width());
        int i = 0;
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < px.height(); y++) {
                for (int x = 0; x < px.width(); x++) {
                    float expected = (float) golden.get(c).get(y).get(x).asDouble();
                    assertEquals(expected, px.chw()[i++], 0f, model + " " + file + " c" + c + " y" + y + " x" + x);
                }
            }
        }
    }

    /** Lossless formats decode to the PNG's very pixels; the palette GIF and the JPEG to their own. */
    @ParameterizedTest
    @ValueSource(strings = {"scene.bmp", "scene.webp"})
    void losslessFormatsDecodeToTheSamePixels(String file) throws IOException {
        RgbImage png = image("scene.png");
        RgbImage other = image(file);
        assertEquals(png.width(), other.width());
        assertEquals(png.height(), other.height());
        assertTrue(java.util.Arrays.equals(png.rgb(), other.rgb()), file);
    }

    @Test
    void gifAndJpegDecodeWithinWhatTheirEncodingLost() throws IOException {
        JsonNode files = new ObjectMapper().readTree(LLAVA.resolve("images/images.json").toFile()).get("files");
        RgbImage png = image("scene.png");
        for (String f : new String[] {"scene.gif", "scene.jpg"}) {
            RgbImage other = image(f);
            int max = 0;
            for (int i = 0; i < png.rgb().length; i++) {
                max = Math.max(max, Math.abs((png.rgb()[i] & 0xFF) - (other.rgb()[i] & 0xFF)));
            }
            int pillow = files.get(f).get("max_abs_diff_vs_png").asInt();
            // GIF palettes are exact; JPEG decoders (libjpeg in Pillow, the JDK's own here) differ by a few levels.
            assertTrue(f.endsWith(".gif") ? max == pillow : max <= pillow + 8, f + ": " + max + " vs Pillow's " + pillow);
        }
    }

    @Test
    void greyImagesKeepTheirLevelsInAllThreeChannels() throws IOException {
        JsonNode grey = new ObjectMapper().readTree(LLAVA.resolve("images/grey.json").toFile());
        RgbImage img = image("grey.png");
        for (int i = 0; i < img.width() * img.height(); i++) {
            int v = grey.get("values").get(i).asInt();
            for (int c = 0; c < 3; c++) {
                assertEquals(v, img.rgb()[3 * i + c] & 0xFF, "pixel " + i);
            }
        }
    }

    @Test
    void anImageOverThePixelLimitIsRefusedFromItsHeader() throws IOException {
        byte[] bomb = Files.readAllBytes(LLAVA.resolve("images/big.png")); // 5000 x 5000 in 72 KB
        MediaException e = assertThrows(MediaException.class, () -> new ImageDecoder(4_000_000).decode(bomb));
        assertTrue(e.getMessage().contains("25000000") && e.getMessage().contains("4000000"), e.getMessage());
    }

    @Test
    void garbageAndTruncatedImagesAreClearErrors() throws IOException {
        MediaException e = assertThrows(MediaException.class, () -> DECODER.decode("not an image".getBytes()));
        assertTrue(e.getMessage().contains("not in a supported format"), e.getMessage());
        byte[] png = Files.readAllBytes(LLAVA.resolve("images/scene.png"));
        byte[] truncated = java.util.Arrays.copyOf(png, png.length / 2);
        e = assertThrows(MediaException.class, () -> DECODER.decode(truncated));
        assertTrue(e.getMessage().startsWith("the image could not be decoded"), e.getMessage());
    }
}
