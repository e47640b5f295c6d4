package ai.nuri.media;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code preprocessor_config.json} applied as transformers' CLIP and SigLIP image processors (their
 * PIL path) apply it: RGB, resize ({@code size} as height/width, or {@code shortest_edge} keeping
 * the aspect ratio) with Pillow's {@code resample} filter back to 8 bits, centre crop, rescale,
 * normalise with {@code image_mean}/{@code image_std}, channels first. Pixels match transformers'
 * to the last float bit (tested against values made with Pillow).
 */
public record ImagePreprocessor(Integer height, Integer width, Integer shortestEdge, PillowResize.Filter filter,
        Integer cropHeight, Integer cropWidth, double rescaleFactor, boolean rescale, boolean normalize,
        float[] mean, float[] std) {

    public static ImagePreprocessor read(Path file) {
        try {
            return parse(new ObjectMapper().readTree(file.toFile()));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    static ImagePreprocessor parse(JsonNode c) {
        Integer h = null;
        Integer w = null;
        Integer shortest = null;
        if (c.path("do_resize").asBoolean(true)) {
            JsonNode size = c.path("size");
            if (size.has("height") && size.has("width")) {
                h = size.get("height").asInt();
                w = size.get("width").asInt();
            } else if (size.has("shortest_edge")) {
                shortest = size.get("shortest_edge").asInt();
            } else if (size.canConvertToInt()) {
                shortest = size.asInt();
            } else {
                throw new IllegalArgumentException("'size' needs height and width, or shortest_edge");
            }
        }
        Integer ch = null;
        Integer cw = null;
        if (c.path("do_center_crop").asBoolean(false)) {
            JsonNode crop = c.path("crop_size");
            if (crop.canConvertToInt()) {
                ch = cw = crop.asInt();
            } else if (crop.has("height") && crop.has("width")) {
                ch = crop.get("height").asInt();
                cw = crop.get("width").asInt();
            } else {
                throw new IllegalArgumentException("'crop_size' needs height and width");
            }
        }
        boolean normalize = c.path("do_normalize").asBoolean(true);
        float[] mean = floats(c.path("image_mean"), 0.5f);
        float[] std = floats(c.path("image_std"), 0.5f);
        return new ImagePreprocessor(h, w, shortest, PillowResize.Filter.of(c.path("resample").asInt(3)), ch, cw,
                c.path("rescale_factor").asDouble(1.0 / 255), c.path("do_rescale").asBoolean(true), normalize, mean, std);
    }

    private static float[] floats(JsonNode n, float fallback) {
        float[] out = {fallback, fallback, fallback};
        if (n.isArray() && n.size() == 3) {
            for (int i = 0; i < 3; i++) {
                out[i] = (float) n.get(i).asDouble();
            }
        } else if (n.isNumber()) {
            java.util.Arrays.fill(out, (float) n.asDouble());
        }
        return out;
    }

    /** The model input for one image. */
    public record Pixels(int height, int width, float[] chw) {}

    public Pixels apply(RgbImage image) {
        RgbImage img = image;
        if (height != null) {
            img = PillowResize.resize(img, width, height, filter);
        } else if (shortestEdge != null) {
            // As transformers' get_resize_output_image_size: the short side to the size, the long one scaled, truncated.
            boolean portrait = img.height() > img.width();
            int shortSide = Math.min(img.width(), img.height());
            int longSide = Math.max(img.width(), img.height());
            int newLong = (int) ((long) shortestEdge * longSide / (double) shortSide);
            int w = portrait ? shortestEdge : newLong;
            int h = portrait ? newLong : shortestEdge;
            img = PillowResize.resize(img, w, h, filter);
        }
        int top = 0;
        int left = 0;
        int outH = img.height();
        int outW = img.width();
        if (cropHeight != null) {
            top = (img.height() - cropHeight) / 2;
            left = (img.width() - cropWidth) / 2;
            outH = cropHeight;
            outW = cropWidth;
            if (top < 0 || left < 0) {
                throw new IllegalArgumentException("crop " + cropWidth + "x" + cropHeight + " is larger than the resized "
                        + img.width() + "x" + img.height() + " image");
            }
        }
        float[] out = new float[3 * outH * outW];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    int s = img.sample(left + x, top + y, c);
                    float v = rescale ? (float) (s * rescaleFactor) : s;
                    if (normalize) {
                        v = (v - mean[c]) / std[c];
                    }
                    out[(c * outH + y) * outW + x] = v;
                }
            }
        }
        return new Pixels(outH, outW, out);
    }
}
