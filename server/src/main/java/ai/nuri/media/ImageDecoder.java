package ai.nuri.media;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes PNG, JPEG, GIF (first frame), BMP and WebP with ImageIO (WebP through TwelveMonkeys'
 * plugin) into {@link RgbImage}. The size is read from the header before any pixel is decoded,
 * so an image over the pixel limit (a decompression bomb) never reaches memory.
 *
 * <p>Alpha is dropped, not composited: PIL's {@code convert("RGB")}, which transformers' image
 * processors use, keeps the stored colour of transparent pixels. Grey images are copied to all
 * three channels from their raw samples (ImageIO's own RGB conversion of grey applies a gamma
 * curve, which PIL does not).
 */
public final class ImageDecoder {
    private final long maxPixels;

    public ImageDecoder(long maxPixels) {
        if (maxPixels < 1) {
            throw new IllegalArgumentException("maxPixels must be positive");
        }
        this.maxPixels = maxPixels;
    }

    public RgbImage decode(byte[] bytes) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new MediaException("the image is not in a supported format (PNG, JPEG, GIF, BMP or WebP)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long width = reader.getWidth(0);
                long height = reader.getHeight(0);
                if (width < 1 || height < 1) {
                    throw new MediaException("the image has no pixels");
                }
                if (width * height > maxPixels) {
                    throw new MediaException("the image is " + width + "x" + height + " = " + width * height
                            + " pixels; the limit is " + maxPixels);
                }
                return toRgb(reader.read(0));
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof MediaException m) {
                throw m;
            }
            throw new MediaException("the image could not be decoded: " + e.getMessage(), e);
        }
    }

    static RgbImage toRgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] rgb = new byte[3 * w * h];
        Raster raster = image.getRaster();
        boolean grey = image.getColorModel().getNumColorComponents() == 1
                && image.getType() != BufferedImage.TYPE_BYTE_BINARY && image.getColorModel().getPixelSize() <= 16
                && !(image.getColorModel() instanceof java.awt.image.IndexColorModel);
        int greyBits = raster.getSampleModel().getSampleSize(0);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = 3 * (y * w + x);
                if (grey) {
                    int v = raster.getSample(x, y, 0);
                    byte b = (byte) (greyBits > 8 ? v >> (greyBits - 8) : v);
                    rgb[i] = b;
                    rgb[i + 1] = b;
                    rgb[i + 2] = b;
                } else {
                    int argb = image.getRGB(x, y); // non-premultiplied colour: alpha is simply not used
                    rgb[i] = (byte) (argb >> 16);
                    rgb[i + 1] = (byte) (argb >> 8);
                    rgb[i + 2] = (byte) argb;
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }
}
