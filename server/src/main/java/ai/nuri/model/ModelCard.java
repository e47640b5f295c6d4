package ai.nuri.model;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What a model folder's README.md (its model card) says of the model in its first paragraph. */
public final class ModelCard {
    private ModelCard() {}

    /**
     * The first paragraph after the card's title, on one line (block-quote marks dropped), or
     * null when the folder has no card or the card no paragraph. Cards written for Hugging Face
     * start with YAML front matter, which is skipped.
     */
    public static String summary(Path folder) {
        Path card = folder.resolve("README.md");
        if (!Files.isRegularFile(card)) {
            return null;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(card, StandardCharsets.UTF_8);
        } catch (IOException | java.io.UncheckedIOException e) {
            return null; // a card that cannot be read takes nothing from serving
        }
        int i = 0;
        if (!lines.isEmpty() && lines.get(0).strip().equals("---")) {
            for (i = 1; i < lines.size() && !lines.get(i).strip().equals("---"); i++) { }
            i++;
        }
        for (; i < lines.size() && !lines.get(i).startsWith("# "); i++) { }
        List<String> paragraph = new ArrayList<>();
        for (i++; i < lines.size(); i++) {
            String line = lines.get(i).strip().replaceFirst("^>\\s?", "");
            if (line.isEmpty()) {
                if (paragraph.isEmpty()) {
                    continue;
                }
                break;
            }
            if (line.startsWith("#")) {
                break;
            }
            paragraph.add(line);
        }
        return paragraph.isEmpty() ? null : String.join(" ", paragraph);
    }
}
