package ai.nuri.media;

/**
 * A decoded image as 8-bit RGB, row-major, three bytes per pixel: what PIL's
 * {@code image.convert("RGB")} gives, which is where transformers' image processors start.
 */
public record RgbImage(int width, int height, byte[] rgb) {
    public RgbImage {
        if (width < 1 || height < 1 || rgb.length != 3 * width * height) {
            throw new IllegalArgumentException("an RGB image of " + width + "x" + height + " needs " + 3L * width * height
                    + " bytes, not " + rgb.length);
        }
    }

    /** Channel c (0 red, 1 green, 2 blue) of pixel (x, y), 0..255. */
    public int sample(int x, int y, int c) {
        return rgb[3 * (y * width + x) + c] & 0xFF;
    }
}
