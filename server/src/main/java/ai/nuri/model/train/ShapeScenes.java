package ai.nuri.model.train;

import ai.nuri.media.RgbImage;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Pictures Nuri draws for its demo vision model, each with a Korean question and its one right
 * answer: coloured shapes (what is there, what colour, how many, where), or a Korean word written
 * in the picture. A seed fixes every picture, so training and evaluation draw from different
 * seeds and never share an image.
 */
public final class ShapeScenes {
    public static final int SIZE = 48;

    /** One picture and what to ask about it. */
    public record Scene(RgbImage image, String question, String answer) {}

    private record Hue(String name, String adjective, Color color) {}

    private static final Hue[] HUES = {
        new Hue("빨간색", "빨간", new Color(220, 40, 40)),
        new Hue("파란색", "파란", new Color(40, 80, 220)),
        new Hue("초록색", "초록", new Color(40, 170, 60)),
        new Hue("노란색", "노란", new Color(235, 200, 30))};
    private static final String[] SHAPES = {"원", "네모", "세모"};
    private static final String[] COUNTS = {"한", "두", "세"};
    private static final String[] WORDS = {"물", "불", "산", "강", "집", "길"};
    static final Path FONT = Path.of("/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf");

    private final Font font;

    public ShapeScenes() {
        try {
            font = Font.createFont(Font.TRUETYPE_FONT, Files.newInputStream(FONT)).deriveFont(Font.BOLD, 30f);
        } catch (IOException | java.awt.FontFormatException e) {
            throw new IllegalStateException(FONT + " is needed to write Korean in the pictures (Debian package"
                    + " fonts-nanum): " + e.getMessage(), e);
        }
    }

    /** The scene for one seed. */
    public Scene scene(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        int shade = 235 + r.nextInt(21);
        g.setColor(new Color(shade, shade, shade - r.nextInt(10)));
        g.fillRect(0, 0, SIZE, SIZE);
        Scene s;
        int kind = r.nextInt(10);
        if (kind < 2) {
            String word = WORDS[r.nextInt(WORDS.length)];
            g.setFont(font);
            g.setColor(new Color(r.nextInt(60), r.nextInt(60), r.nextInt(60)));
            int w = g.getFontMetrics().stringWidth(word);
            g.drawString(word, (SIZE - w) / 2 + r.nextInt(7) - 3, 35 + r.nextInt(5) - 2);
            s = new Scene(null, "그림에 쓰인 글자는 무엇인가요?", "'" + word + "'이라고 쓰여 있습니다.");
        } else {
            Hue hue = HUES[r.nextInt(HUES.length)];
            int shape = r.nextInt(SHAPES.length);
            int count = 1 + r.nextInt(3);
            List<int[]> placed = place(r, count);
            g.setColor(hue.color());
            for (int[] p : placed) {
                draw(g, shape, p[0], p[1], p[2]);
            }
            int question = r.nextInt(count == 1 ? 4 : 3);
            s = switch (question) {
                case 0 -> new Scene(null, "그림에 무엇이 있나요?",
                        hue.adjective() + " " + SHAPES[shape] + " " + COUNTS[count - 1] + " 개가 있습니다.");
                case 1 -> new Scene(null, "도형은 무슨 색인가요?", hue.name() + "입니다.");
                case 2 -> new Scene(null, SHAPES[shape] + (batchim(SHAPES[shape]) ? "은" : "는") + " 몇 개인가요?",
                        COUNTS[count - 1] + " 개입니다.");
                default -> new Scene(null, "도형은 어느 쪽에 있나요?",
                        (placed.get(0)[0] < SIZE / 2 ? "왼쪽" : "오른쪽") + "에 있습니다.");
            };
        }
        g.dispose();
        return new Scene(toRgb(img), s.question(), s.answer());
    }

    /** Whether a word ends in a final consonant (so it takes 은, not 는). */
    private static boolean batchim(String word) {
        char last = word.charAt(word.length() - 1);
        return last >= 0xAC00 && last <= 0xD7A3 && (last - 0xAC00) % 28 != 0;
    }

    /** Centres and radii of {@code count} shapes that do not overlap; one shape sits clearly left or right. */
    private static List<int[]> place(SplittableRandom r, int count) {
        List<int[]> out = new ArrayList<>();
        while (out.size() < count) {
            int radius = 5 + r.nextInt(3);
            int x = radius + 1 + r.nextInt(SIZE - 2 * radius - 2);
            int y = radius + 1 + r.nextInt(SIZE - 2 * radius - 2);
            if (count == 1 && Math.abs(x - SIZE / 2) < 8) {
                continue;
            }
            boolean free = out.stream().allMatch(o -> Math.hypot(o[0] - x, o[1] - y) > o[2] + radius + 3);
            if (free) {
                out.add(new int[] {x, y, radius});
            }
        }
        return out;
    }

    private static void draw(Graphics2D g, int shape, int x, int y, int radius) {
        g.setStroke(new BasicStroke(1f));
        switch (shape) {
            case 0 -> g.fillOval(x - radius, y - radius, 2 * radius, 2 * radius);
            case 1 -> g.fillRect(x - radius, y - radius, 2 * radius, 2 * radius);
            default -> g.fillPolygon(new Polygon(new int[] {x, x - radius - 1, x + radius + 1},
                    new int[] {y - radius - 1, y + radius, y + radius}, 3));
        }
    }

    static RgbImage toRgb(BufferedImage img) {
        byte[] rgb = new byte[3 * SIZE * SIZE];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                int p = img.getRGB(x, y);
                int i = 3 * (y * SIZE + x);
                rgb[i] = (byte) (p >> 16);
                rgb[i + 1] = (byte) (p >> 8);
                rgb[i + 2] = (byte) p;
            }
        }
        return new RgbImage(SIZE, SIZE, rgb);
    }

    /** Every sentence the scenes can ask or answer, for training a tokenizer on. */
    public static List<String> sentences() {
        List<String> out = new ArrayList<>(List.of("그림에 무엇이 있나요?", "도형은 무슨 색인가요?", "도형은 어느 쪽에 있나요?",
                "그림에 쓰인 글자는 무엇인가요?", "왼쪽에 있습니다.", "오른쪽에 있습니다."));
        for (Hue h : HUES) {
            out.add(h.name() + "입니다.");
            for (String shape : SHAPES) {
                for (String c : COUNTS) {
                    out.add(h.adjective() + " " + shape + " " + c + " 개가 있습니다.");
                }
            }
        }
        for (String shape : SHAPES) {
            out.add(shape + (batchim(shape) ? "은" : "는") + " 몇 개인가요?");
        }
        for (String c : COUNTS) {
            out.add(c + " 개입니다.");
        }
        for (String w : WORDS) {
            out.add("'" + w + "'이라고 쓰여 있습니다.");
        }
        return out;
    }
}
