package ai.nuri.fuzz;

import java.nio.file.Path;

/**
 * Shared settings of the fuzz targets (classes named *Fuzz). `./mvnw verify` replays each
 * target's saved inputs (src/test/resources/ai/nuri/fuzz/&lt;Class&gt;Inputs/&lt;method&gt;/, the
 * crashes found so far among them) and then fuzzes each for {@link #BUDGET}; with JAZZER_FUZZ
 * unset only the replay runs. See the README's "Fuzzing" section for longer runs.
 */
public final class Fuzzing {
    /** The fixed budget per target in CI. */
    public static final String BUDGET = "30s";
    public static final Path DEMO = Path.of(System.getProperty("nuri.modelStore", "../model-store")).resolve("nuri-ko-mini");
    public static final Path VISION = Path.of(System.getProperty("nuri.modelStore", "../model-store")).resolve("nuri-ko-vision-mini");

    private Fuzzing() {}
}
