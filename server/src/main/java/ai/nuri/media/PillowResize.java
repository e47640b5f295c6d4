package ai.nuri.media;

/**
 * Pillow's {@code Image.resize} for 8-bit images, bit for bit: transformers' image processors
 * resize through it, so a model's pixels are only right if this is. A separable convolution
 * whose filter widens by the scale when shrinking (antialiasing); weights normalised to sum one,
 * then fixed-point with 22 fractional bits; the horizontal pass first, into 8-bit values (rounded
 * and clamped), then the vertical pass the same way.
 */
public final class PillowResize {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Pillow's resampling filters, by their {@code resample} number in preprocessor_config.json. */
    public enum Filter {
        LANCZOS(1, 3.0), BILINEAR(2, 1.0), BICUBIC(3, 2.0), BOX(4, 0.5), HAMMING(5, 1.0);

        final int code;
        final double support;

        Filter(int code, double support) {
            this.code = code;
            this.support = support;
        }

        public static Filter of(int code) {
            for (Filter f : values()) {
                if (f.code == code) {
                    return f;
                }
            }
            throw new IllegalArgumentException("resample " + code + " is not supported (1 Lanczos, 2 bilinear,"
                    + " 3 bicubic, 4 box, 5 Hamming)");
        }

        double weight(double x) {
            return switch (this) {
                case BOX -> x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
                case BILINEAR -> Math.max(0.0, 1.0 - Math.abs(x));
                case HAMMING -> {
                    double a = Math.abs(x);
                    yield a >= 1.0 ? 0.0 : a == 0 ? 1.0 : Math.sin(Math.PI * a) / (Math.PI * a) * (0.54 + 0.46 * Math.cos(Math.PI * a));
                }
                case BICUBIC -> {
                    double a = -0.5;
                    double t = Math.abs(x);
                    yield t < 1.0 ? ((a + 2.0) * t - (a + 3.0)) * t * t + 1
                            : t < 2.0 ? (((t - 5) * t + 8) * t - 4) * a : 0.0;
                }
                case LANCZOS -> Math.abs(x) < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
            };
        }

        private static double sinc(double x) {
            if (x == 0.0) {
                return 1.0;
            }
            x *= Math.PI;
            return Math.sin(x) / x;
        }
    }

    private PillowResize() {}

    public static RgbImage resize(RgbImage image, int width, int height, Filter filter) {
        RgbImage out = image;
        if (width != out.width()) {
            out = pass(out, width, filter, true);
        }
        if (height != out.height()) {
            out = pass(out, height, filter, false);
        }
        return out;
    }

    /** One separable pass along x (horizontal) or y. */
    private static RgbImage pass(RgbImage in, int outSize, Filter filter, boolean horizontal) {
        int inSize = horizontal ? in.width() : in.height();
        int across = horizontal ? in.height() : in.width();
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
        int outW = horizontal ? outSize : in.width();
        int outH = horizontal ? in.height() : outSize;
        byte[] out = new byte[3 * outW * outH];
        for (int o = 0; o < outSize; o++) {
            double center = (o + 0.5) * scale;
            int min = Math.max((int) (center - support + 0.5), 0);
            int count = Math.min((int) (center + support + 0.5), inSize) - min;
            double[] k = new double[Math.max(count, 0)];
            double total = 0;
            double inverse = 1.0 / filterScale; // multiplied, not divided: the same rounding as Pillow
            for (int j = 0; j < k.length; j++) {
                k[j] = filter.weight((j + min - center + 0.5) * inverse);
                total += k[j];
            }
            int[] fixed = new int[k.length];
            for (int j = 0; j < k.length; j++) {
                double v = total != 0 ? k[j] / total : k[j];
                fixed[j] = (int) (v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
            }
            for (int a = 0; a < across; a++) {
                for (int c = 0; c < 3; c++) {
                    long sum = 1L << (PRECISION_BITS - 1);
                    for (int j = 0; j < fixed.length; j++) {
                        int s = horizontal ? in.sample(min + j, a, c) : in.sample(a, min + j, c);
                        sum += (long) s * fixed[j];
                    }
                    int v = (int) Math.max(0, Math.min(255, sum >> PRECISION_BITS));
                    int x = horizontal ? o : a;
                    int y = horizontal ? a : o;
                    out[3 * (y * outW + x) + c] = (byte) v;
                }
            }
        }
        return new RgbImage(outW, outH, out);
    }
}
